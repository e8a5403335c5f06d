"""LAPGAN: the pyramid maths, the chained generator, its training step, and the pyramid toggle on /conditional."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from app_testing import open_app_page
from stopping import assert_resume_is_exact, logged_steps

from gan_core.app.charts import metric_groups
from gan_core.checkpoints import load_generator
from gan_core.cli import main
from gan_core.data.mnist_5k import load_mnist_5k
from gan_core.data.types import to_unit_range
from gan_core.errors import ConfigError
from gan_core.inference import generate
from gan_core.pyramid import build_pyramid, consistent_residual, downsample, level_sizes, reconstruct, upsample
from gan_core.registry import config_for, get_variant
from gan_core.stages import sample_stages, shows_pyramid, stage_pictures
from gan_core.training import train

TINY = dict(image_size=16, width=4, batch_size=8, noise_dim=8, device="cpu", log_every=1, sample_every=1000,
            checkpoint_every=1000, seed=5, ema_decay=0.0)  # 16×16: levels of 4, 8 and 16 pixels


def tiny_config(variant: str = "lapgan", steps: int = 3, **overrides):
    return config_for(variant, **{**TINY, "steps": steps, **overrides})


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory, digits16) -> dict[str, Path]:
    """A 3-step LAPGAN and a 2-step CGAN as checkpoints of a folder standing in for checkpoints/."""
    folder = tmp_path_factory.mktemp("checkpoints")
    for variant, steps in (("lapgan", 3), ("cgan", 2)):
        run_dir = tmp_path_factory.mktemp(variant)
        result = train(tiny_config(variant, steps), run_dir, dataset=digits16)
        assert result.status == "finished", result.message
        shutil.copy(run_dir / "generator.safetensors", folder / f"{variant}-mnist.safetensors")
        shutil.copy(run_dir / "metrics.jsonl", folder / f"{variant}-metrics.jsonl")
        shutil.copytree(run_dir / "samples", folder / f"{variant}-samples")
    return {"folder": folder, **{variant: folder / f"{variant}-mnist.safetensors" for variant in ("lapgan", "cgan")}}


# --- the pyramid -----------------------------------------------------------------------------------------
def test_the_pyramid_of_real_digits_gives_them_back_exactly():
    pixels = load_mnist_5k(32).images[:16]
    images = to_unit_range(pixels)
    exact = build_pyramid(images.double(), 3)
    assert [exact.coarse.shape[-1], *(r.shape[-1] for r in exact.residuals)] == [8, 16, 32]
    assert (exact.images()[-1] - images.double()).abs().max() < 1e-12, "float64: equal but for rounding"
    rebuilt = build_pyramid(images, 3).images()[-1]
    assert (rebuilt - images).abs().max() <= 1e-6, "float32: equal but for rounding"
    assert torch.equal(((rebuilt + 1) * 127.5).round().to(torch.uint8), pixels), "every pixel value comes back"
    assert (build_pyramid(images, 3).residuals[-1].abs().max()) > 0.1, "the finest residual is real detail"


def test_each_level_is_the_downsampled_image_and_each_residual_what_upsampling_misses():
    images = torch.rand(3, 1, 28, 28, dtype=torch.float64) * 2 - 1
    pyramid = build_pyramid(images, 3)
    assert [image.shape[-1] for image in pyramid.images()] == [7, 14, 28]
    torch.testing.assert_close(pyramid.coarse, downsample(downsample(images)))
    torch.testing.assert_close(pyramid.residuals[1], images - upsample(downsample(images)))
    wrong = reconstruct(pyramid.coarse, (pyramid.residuals[0], torch.zeros_like(pyramid.residuals[1])))[-1]
    assert (wrong - images).abs().max() > 0.1, "leaving a residual out loses that level's detail"


def test_a_consistent_residual_halves_back_to_the_coarser_image_and_a_real_one_is_kept():
    torch.manual_seed(0)
    coarser = torch.rand(3, 1, 8, 8) * 2 - 1
    raw = torch.randn(3, 1, 16, 16)
    residual = consistent_residual(raw, coarser)
    torch.testing.assert_close(downsample(upsample(coarser) + residual), coarser)
    assert (residual - raw).abs().max() > 0.1, "a random residual is not consistent until projected"
    real = build_pyramid(torch.rand(3, 1, 16, 16) * 2 - 1, 2)
    torch.testing.assert_close(consistent_residual(real.residuals[0], real.coarse), real.residuals[0])


def test_every_generated_level_halves_back_to_the_level_below():
    torch.manual_seed(0)
    generator = get_variant("lapgan").model_class(tiny_config(), (1, 16, 16), 10).generator.eval()
    stages = generator.stages(torch.cat([torch.randn(5, generator.noise_total), torch.eye(10)[:5]], dim=1))
    for coarser, residual in zip(stages.images[:-1], stages.residuals):
        torch.testing.assert_close(downsample(upsample(coarser) + residual), coarser)


def test_sizes_that_cannot_be_halved_get_a_clear_message():
    assert level_sizes(32, 3) == [8, 16, 32]
    with pytest.raises(ConfigError, match="cannot be halved 2 times"):
        level_sizes(30, 3)
    with pytest.raises(ConfigError, match="cannot be halved"):
        get_variant("lapgan").model_class(tiny_config(image_size=8), (1, 8, 8), 10)


# --- the variant -----------------------------------------------------------------------------------------
def test_a_few_steps_are_finite_and_every_level_logs_its_losses(tiny_runs):
    rows = [json.loads(line) for line in (tiny_runs["folder"] / "lapgan-metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [1, 2, 3]
    for row in rows:
        assert all(math.isfinite(value) for value in row.values() if isinstance(value, float)), row
        for level in range(3):
            assert {f"level {level}/D_real", f"level {level}/D_fake", f"level {level}/G_GAN"} <= set(row)
    groups = metric_groups(list(rows[0]))
    assert list(groups)[:3] == ["Level 0", "Level 1", "Level 2"], "the live curves chart each level on its own"
    assert "level 2/G_GAN" in groups["Level 2"] and "grad_norm_G" in groups["Gradient norms"]


def test_each_level_trains_on_its_own_inputs():
    """D at a finer level sees (real residual, upsampled real coarser image, label); G's residual has the same shape."""
    torch.manual_seed(0)
    model = get_variant("lapgan").model_class(tiny_config(), (1, 16, 16), 10)
    real = torch.rand(4, 1, 16, 16) * 2 - 1
    inputs = model.level_inputs(real)
    pyramid = build_pyramid(real, 3)
    torch.testing.assert_close(inputs[0].sample, pyramid.coarse)
    assert inputs[0].coarser is None and inputs[0].coarser_up is None
    torch.testing.assert_close(inputs[2].sample, pyramid.residuals[1])
    torch.testing.assert_close(inputs[2].coarser, pyramid.images()[1])
    torch.testing.assert_close(inputs[2].coarser_up, upsample(pyramid.images()[1]))
    fakes = model.fake_samples(inputs, torch.eye(10)[:4])
    assert [fake.shape for fake in fakes] == [level.sample.shape for level in inputs]


def test_checkpoint_round_trip_samples_the_same_images(tiny_runs):
    first, second = load_generator(tiny_runs["lapgan"]), load_generator(tiny_runs["lapgan"])
    assert first.variant == "lapgan" and first.step == 3 and first.layout.num_labels == 10
    assert first.layout.noise_dim == 8 + 8 * 8 + 16 * 16, "level 0's noise, then a noise plane per finer level"
    images = generate(first, 6, seed=5, labels=[0, 1, 2, 3, 4, 5])
    assert images.shape == (6, 1, 16, 16) and images.abs().max() <= 1
    assert torch.equal(images, generate(second, 6, seed=5, labels=[0, 1, 2, 3, 4, 5]))


def test_the_refiner_depth_is_kept_in_the_checkpoint_and_rebuilt_from_it(digits16, tmp_path):
    config = tiny_config(steps=1, refiner_depth=3)
    assert train(config, tmp_path / "deep", dataset=digits16).status == "finished"
    model = load_generator(tmp_path / "deep" / "generator.safetensors")
    convs = [layer for layer in model.generator.refiners[0].model if isinstance(layer, torch.nn.Conv2d)]
    assert len(convs) == 1 + 3 + 1, "the first 5×5 layer, three 3×3 layers, the output layer"
    assert model.config.extra["refiner_depth"] == 3


def test_a_config_that_does_not_name_the_refiner_depth_builds_the_earlier_architecture():
    """Checkpoints saved before `refiner_depth` existed keep loading: their config does not name it."""
    config = tiny_config()
    unnamed = dataclasses.replace(config, extra={k: v for k, v in config.extra.items() if k != "refiner_depth"})
    build = get_variant("lapgan").model_class.build_generator
    convolutions = [sum(isinstance(m, torch.nn.Conv2d) for m in build(c, (1, 16, 16), 10).refiners[0].model)
                    for c in (unnamed, config)]
    assert convolutions == [1 + 2, 4 + 2], "the middle layers, then the first and the output layer"
    assert config.extra["refiner_depth"] == 4


def test_resume_continues_as_if_never_stopped(digits16, tmp_path):
    assert_resume_is_exact(tiny_config(steps=4, ema_decay=0.99), tmp_path, digits16, stop_at=2)
    assert logged_steps(tmp_path / "split") == [1, 2, 3, 4]


def test_the_chain_of_stages_ends_in_the_sample_and_each_level_refines_the_one_below(tiny_runs):
    model = load_generator(tiny_runs["lapgan"])
    assert shows_pyramid(model) and not shows_pyramid(load_generator(tiny_runs["cgan"]))
    stages = sample_stages(model, seed=3, label=7, n=2)
    assert [image.shape[-1] for image in stages.images] == [4, 8, 16]
    assert torch.equal(stages.images[-1], generate(model, 2, seed=3, labels=7))
    expected = (upsample(stages.images[1]) + stages.residuals[1]).clamp(-1, 1)
    torch.testing.assert_close(stages.images[2], expected)
    pictures = stage_pictures(stages)
    assert pictures.shape == (2, 5, 1, 16, 16)
    with pytest.raises(ConfigError, match="do not build their samples as a pyramid"):
        sample_stages(load_generator(tiny_runs["cgan"]), seed=0)


def test_the_preview_shows_the_stages_a_row_per_label(tiny_runs):
    spec = get_variant("lapgan")
    assert spec.preview_columns == ("coarse (level 0)", "residual 1", "level 1", "residual 2", "level 2 (final)")
    from PIL import Image

    preview = Image.open(sorted((tiny_runs["folder"] / "lapgan-samples").glob("*.png"))[-1])
    cell = 16 + 2
    assert (preview.width, preview.height) == (5 * cell + 2, 10 * cell + 2), "5 stages across, labels 0-9 down"


def test_the_cli_samples_the_requested_label(tiny_runs, tmp_path, capsys):
    out = tmp_path / "sevens.npy"
    assert main(["sample", "--checkpoint", str(tiny_runs["lapgan"]), "--n", "5", "--label", "7", "--out", str(out)]) == 0
    import numpy as np

    assert np.load(out).shape == (5, 1, 16, 16)
    assert main(["sample", "--checkpoint", str(tiny_runs["lapgan"]), "--n", "5", "--label", "10", "--out", str(out)]) == 2
    assert "label must be an integer in [0, 9]" in capsys.readouterr().err


def test_unlabelled_data_gets_a_clear_message():
    with pytest.raises(ConfigError, match="class-conditional"):
        get_variant("lapgan").model_class(tiny_config(), (1, 16, 16), 1)


# --- the page --------------------------------------------------------------------------------------------
def test_the_conditional_page_shows_the_pyramid_for_lapgan_only(monkeypatch, tmp_path, tiny_runs):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tiny_runs["folder"]))
    at = open_app_page("app_pages/conditional.py")
    models = at.selectbox(key="conditional.model")
    assert [option.split(" ")[0] for option in models.options] == ["cgan-mnist", "lapgan-mnist"]
    assert [toggle.key for toggle in at.toggle] == [], "cgan builds no pyramid"
    models.select_index(1).run()
    assert not at.exception, at.exception
    images = lambda: [url for element in at.get("image") for url in element.value]  # noqa: E731
    before = images()
    assert [toggle.key for toggle in at.toggle] == ["conditional.pyramid"]
    at.toggle(key="conditional.pyramid").set_value(True).run()
    assert not at.exception, at.exception
    assert len(images()) == len(before) + 1, "one more picture: the pyramid"
    assert "Download the pyramid (PNG)" in [element.proto.label for element in at.get("download_button")]
    shown = images()
    at.selectbox(key="conditional.pyramid_label").set_value(4).run()
    assert not at.exception, at.exception
    assert images() != shown, "another label, another pyramid"
