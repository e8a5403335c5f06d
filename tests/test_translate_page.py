"""The translate page and its engine: tiny pix2pix/CycleGAN checkpoints made in tmp, driven by AppTest."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import save_untrained_translator
from PIL import Image
from streamlit.testing.v1 import AppTest

from gan_core.errors import CheckpointError, ConfigError
from gan_core.registry import config_for
from gan_core.translation import MAX_SIDE, load_official_translator, load_translator, translate

torch.set_num_threads(1)

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "translate.py")


@pytest.fixture(scope="module")
def translators(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("checkpoints")
    save_untrained_translator(folder, "cyclegan", "photo2sketch")
    save_untrained_translator(folder, "pix2pix", "photo2sketch_paired")
    return folder


@pytest.fixture
def page_env(monkeypatch, tmp_path, translators):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(translators))


def open_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def image_urls(at: AppTest) -> list[str]:
    return [url for element in at.get("image") for url in element.value]


def test_first_load_translates_the_example_with_a_cycle(page_env):
    at = open_page()
    assert at.selectbox(key="translate.model").value.variant == "cyclegan"
    images = image_urls(at)
    assert len(images) == 3, "input, translation and reconstruction side by side"
    assert any("synthesised" in info.value.lower() for info in at.info)
    assert at.get("download_button"), "a PNG download is offered"
    at.radio(key="translate.direction").set_value("BtoA").run()
    assert not at.exception
    assert any("filter" in caption.value for caption in at.caption), "B input derived as in training"


def test_pix2pix_shows_input_and_output_only(page_env):
    at = open_page()
    model = at.selectbox(key="translate.model")
    model.select_index(next(i for i, label in enumerate(model.options) if "pix2pix" in label)).run()
    assert not at.exception
    assert len(image_urls(at)) == 2
    assert not [radio for radio in at.radio if radio.key == "translate.direction"]


def test_a_colouriser_says_what_to_expect_of_its_colours_and_a_sketcher_does_not(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path))
    save_untrained_translator(tmp_path, "pix2pix", "gray2color")
    at = open_page()
    assert "gray2color" in at.selectbox(key="translate.model").value.label
    expectations = [info.value for info in at.info if info.value.startswith("What to expect")]
    assert expectations and "learned from six photos" in expectations[0]
    assert len(image_urls(at)) == 2, "it still translates"

    save_untrained_translator(tmp_path, "pix2pix", "photo2sketch_paired")
    (tmp_path / "pix2pix-gray2color.safetensors").unlink()
    at = open_page()
    assert not [info for info in at.info if info.value.startswith("What to expect")]


def test_page_without_translators_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path / "none"))
    at = open_page()
    assert any("No pix2pix or CycleGAN model" in info.value for info in at.info)


def test_translation_keeps_aspect_ratio_and_shrinks_large_pictures(translators):
    translator = load_translator(translators / "cyclegan-photo2sketch.safetensors")
    assert translator.has_cycle and translator.directions == ["AtoB", "BtoA"]
    wide = Image.new("RGB", (1200, 300), (200, 40, 40))
    result = translate(translator, wide, "AtoB")
    assert result.shrunk_from == (1200, 300)
    assert result.source.size == result.output.size == result.reconstruction.size == (MAX_SIDE, 128)
    with pytest.raises(ConfigError):
        translate(load_translator(translators / "pix2pix-photo2sketch_paired.safetensors"), wide, "BtoA")


def test_a_sketch_input_is_derived_from_a_photo_like_its_training_data(translators):
    flat = Image.new("RGB", (70, 50), (10, 120, 200))
    cyclegan = load_translator(translators / "cyclegan-photo2sketch.safetensors")
    result = translate(cyclegan, flat, "BtoA")
    assert result.output.size == (70, 50)
    assert "pencil sketch" in result.prepared
    assert np.asarray(result.source).min() >= 254, "the sketch of a flat picture is blank paper"
    pix2pix = translate(load_translator(translators / "pix2pix-photo2sketch_paired.safetensors"), flat)
    assert pix2pix.reconstruction is None and pix2pix.prepared == "", "a photo is already pix2pix's input"
    assert np.array_equal(np.asarray(pix2pix.source), np.asarray(flat))


def test_official_generator_translates_one_way(tmp_path):
    from gan_core.nets.image_to_image import ResnetGenerator

    buffer = io.BytesIO()
    torch.save(ResnetGenerator(3, 3, 8, "instance", False, 2).state_dict(), buffer)
    translator = load_official_translator(buffer.getvalue(), "latest_net_G.pth")
    assert not translator.has_cycle and "ResNet" in translator.title
    result = translate(translator, Image.new("RGB", (33, 21)))
    assert result.output.size == (33, 21) and result.reconstruction is None


def test_an_official_generator_too_large_to_upload_is_read_from_its_path(page_env, tmp_path):
    from gan_core.nets.image_to_image import ResnetGenerator

    weights = tmp_path / "latest_net_G_A.pth"
    torch.save(ResnetGenerator(3, 3, 8, "instance", False, 2).state_dict(), weights)
    at = open_page()
    at.radio(key="translate.source").set_value("An official CycleGAN/pix2pix .pth generator").run()
    assert any("or give its path" in info.value for info in at.info)
    at.text_input(key="translate.official_path").set_value(str(tmp_path / "missing.pth")).run()
    assert not at.exception and "does not exist" in at.error[0].value
    at.text_input(key="translate.official_path").set_value(str(weights)).run()
    assert not at.exception and not at.error
    assert any("latest_net_G_A.pth (ResNet" in caption.value for caption in at.caption) and len(image_urls(at)) == 2


def test_noise_generators_are_refused(tmp_path, digits16):
    from gan_core.training import train

    config = config_for("dcgan", steps=1, image_size=16, width=8, batch_size=4, device="cpu", noise_dim=8)
    train(config, tmp_path, dataset=digits16)
    with pytest.raises(CheckpointError, match="does not translate"):
        load_translator(tmp_path / "generator.safetensors")


def _png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 160, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_uploaded_picture_is_translated_with_its_reconstruction(page_env):
    at = open_page()
    at.file_uploader(key="translate.picture").set_value(("wide.png", _png((96, 40)), "image/png")).run()
    assert not at.exception and not at.error
    assert len(image_urls(at)) == 3
    assert len(at.get("download_button")) == 1
    assert not any("shrunk to" in caption.value and "This picture" in caption.value for caption in at.caption)


def test_a_broken_upload_shows_its_one_line_error(page_env):
    at = open_page()
    at.file_uploader(key="translate.picture").set_value(("fake.png", b"<svg></svg>", "image/png")).run()
    assert not at.exception
    assert at.error and "accepted" in at.error[0].value
    assert not image_urls(at)


def test_a_pix2pix_with_dropout_offers_seeded_test_time_noise(monkeypatch, tmp_path):
    save_untrained_translator(tmp_path, "pix2pix", "photo2sketch_paired", size=64)
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path))
    at = open_page()
    quiet = image_urls(at)
    at.toggle(key="translate.dropout").set_value(True).run()
    assert not at.exception
    noisy = image_urls(at)
    assert noisy[1] != quiet[1], "the translation changes with dropout on"
    at.number_input(key="translate.dropout_seed").set_value(5).run()
    assert image_urls(at)[1] != noisy[1], "another seed, another translation"


def test_a_generator_without_dropout_offers_no_noise(page_env):
    at = open_page()
    assert not [toggle for toggle in at.toggle if toggle.key == "translate.dropout"]


def test_a_picture_much_smaller_than_the_training_crops_gets_a_warning(page_env):
    at = open_page()
    assert not at.warning, "the example photo is large enough"
    at.file_uploader(key="translate.picture").set_value(("tiny.png", _png((8, 8)), "image/png")).run()
    assert not at.exception
    assert at.warning and "8×8 px, much smaller than the 32-px crops" in at.warning[0].value


def test_the_cycle_view_explains_invented_colours(page_env):
    at = open_page()  # the CycleGAN model comes first
    assert any("has to invent it" in caption.value for caption in at.caption)
    model = at.selectbox(key="translate.model")
    model.select_index(next(i for i, label in enumerate(model.options) if "pix2pix" in label)).run()
    assert not any("has to invent it" in caption.value for caption in at.caption), "no way back, nothing to explain"


def test_an_official_path_that_is_a_folder_or_our_checkpoint_says_what_to_do(page_env, tmp_path, translators):
    at = open_page()
    at.radio(key="translate.source").set_value("An official CycleGAN/pix2pix .pth generator").run()
    assert any("download_cyclegan_model.sh" in caption.value for caption in at.caption), "where official weights come from"
    at.text_input(key="translate.official_path").set_value(str(tmp_path)).run()
    assert not at.exception and "is a folder: give the generator file inside it" in at.error[0].value
    ours = next(translators.glob("*.safetensors"))
    at.text_input(key="translate.official_path").set_value(str(ours)).run()
    assert not at.exception and "is a GAN Studio checkpoint, not an official .pth" in at.error[0].value
