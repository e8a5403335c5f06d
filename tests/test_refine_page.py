"""The Refine page: a tiny SimGAN refiner made in tmp, driven by AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from gan_core.checkpoints import DatasetInfo, save_generator
from gan_core.registry import config_for, get_variant

torch.set_num_threads(1)

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "refine.py")


@pytest.fixture(scope="module")
def refiners(tmp_path_factory) -> Path:
    """A width-4, one-block refiner saved as if trained (0 steps): fast to load and run."""
    folder = tmp_path_factory.mktemp("checkpoints")
    config = config_for("simgan", width=4, refiner_blocks=1)
    torch.manual_seed(0)
    model = get_variant("simgan").model_class(config, (1, 28, 28), 10)
    save_generator(folder / "simgan-mnist.safetensors", model.generator, config, None,
                   DatasetInfo("synthetic_digits", (1, 28, 28), [str(d) for d in range(10)]), 1)
    return folder


@pytest.fixture
def page_env(monkeypatch, tmp_path, refiners):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(refiners))


def open_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def image_urls(at: AppTest) -> list[str]:
    return [url for element in at.get("image") for url in element.value]


def test_first_load_shows_synthetic_refined_difference_and_a_grid_with_downloads(page_env):
    at = open_page()
    assert len(image_urls(at)) == 4, "synthetic, refined, difference, then the grid of pairs"
    captions = " ".join(caption.value for caption in at.caption)
    assert "mean change per pixel" in captions
    assert len(at.get("download_button")) == 3, "pair PNG, grid PNG, grid arrays"


def test_choosing_another_digit_and_a_random_batch_change_the_pictures(page_env):
    at = open_page()
    before = image_urls(at)
    at.select_slider(key="refine.digit").set_value(7).run()
    assert not at.exception, at.exception
    after = image_urls(at)
    assert after[0] != before[0] and after[3] == before[3], "the chosen digit changes; the grid keeps its seed"
    at.radio(key="refine.mode").set_value("Random batch").run()
    at.number_input(key="refine.seed").set_value(5).run()
    assert not at.exception, at.exception
    assert image_urls(at)[3] != before[3], "another seed, another grid"


def test_without_a_refiner_the_page_says_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path / "none"))
    at = open_page()
    assert at.info and "No SimGAN refiner" in at.info[0].value


def test_the_page_opens_on_a_clear_hand_when_it_is_installed(page_env):
    from gan_core.data.synthetic_digits import Renderer

    fonts = Renderer().fonts
    at = open_page()
    chosen = fonts[at.selectbox(key="refine.font").value]
    assert chosen == ("Humor-Sans" if "Humor-Sans" in fonts else fonts[0])
