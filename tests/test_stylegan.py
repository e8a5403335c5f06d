"""StyleGAN: training, its checkpoint, style mixing, truncation, noise, bad input and the /style page.

A few training steps on 16×16 digits make a generator whose mapping and styles already differ per seed,
which is all these properties need. Training with finite losses, the checkpoint round trip and resume
equivalence for every noise-to-image variant, this one included, are in test_variants.py; here is what
is particular to StyleGAN.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import torch
from app_testing import open_app_page
from stopping import assert_resume_is_exact
from streamlit.testing.v1 import AppTest

from gan_core.checkpoints import load_generator
from gan_core.errors import CheckpointError, ConfigError
from gan_core.inference import generate, require_conditional
from gan_core.nets.style import StyleGenerator, style_bands, truncate
from gan_core.registry import config_for
from gan_core.styles import (
    Noise,
    band_layers,
    crossover_layers,
    mapped,
    mean_w_image,
    mix,
    parse_seeds,
    require_style_generator,
    sample,
    seed_latents,
    style_mixing_grid,
    synthesize,
)
from gan_core.training import train
from gan_core.training.run_files import RunFiles

TINY = {"width": 8, "image_size": 16, "batch_size": 8, "noise_dim": 16, "log_every": 1, "sample_every": 1000,
        "checkpoint_every": 1000, "device": "cpu", "seed": 3, "mapping_layers": 2, "r1_interval": 2}


@pytest.fixture(scope="module")
def style_run(tmp_path_factory, digits16) -> Path:
    run_dir = tmp_path_factory.mktemp("stylegan")
    result = train(config_for("stylegan", steps=6, **TINY), run_dir, dataset=digits16)
    assert result.status == "finished", result.message
    return run_dir


@pytest.fixture(scope="module")
def style_model(style_run):
    return load_generator(style_run / "generator.safetensors")


@pytest.fixture(scope="module")
def cgan_checkpoint(tmp_path_factory, digits16) -> Path:
    run_dir = tmp_path_factory.mktemp("cgan")
    train(config_for("cgan", steps=1, width=8, image_size=16, batch_size=8, noise_dim=8, device="cpu"), run_dir,
          dataset=digits16)
    return run_dir / "generator.safetensors"


def test_a_few_steps_log_finite_losses_and_the_r1_curve(style_run):
    rows = list(RunFiles(style_run).read_metrics())
    assert [row["step"] for row in rows] == [1, 2, 3, 4, 5, 6]
    for row in rows:
        assert all(math.isfinite(value) for value in row.values()), row
    assert {"D_real", "D_fake", "G_GAN", "R1"} <= set(rows[0])
    assert rows[0]["R1"] > 0, "R1 is measured at the first step"
    # Lazy: measured at steps 1, 3, 5 (every r1_interval = 2) and carried over in between.
    assert rows[1]["R1"] == rows[0]["R1"] and rows[2]["R1"] != rows[1]["R1"]


def test_the_checkpoint_carries_the_tracked_mean_w_and_samples_repeatably(style_run, style_model):
    generator = require_style_generator(style_model)
    assert style_model.variant == "stylegan" and style_model.step == 6
    assert generator.mapping.w_avg.abs().sum() > 0, "the mean w moved from zero while training and was saved"
    images = generate(style_model, 4, seed=7)
    assert images.shape == (4, 1, 16, 16) and images.abs().max() <= 1
    again = load_generator(style_run / "generator.safetensors")
    assert torch.equal(images, generate(again, 4, seed=7))
    torch.testing.assert_close(again.generator.mapping.w_avg, generator.mapping.w_avg)


def test_resume_continues_as_if_never_stopped(digits16, tmp_path):
    straight, _ = assert_resume_is_exact(config_for("stylegan", steps=5, **TINY), tmp_path, digits16, stop_at=3)
    assert "generator.mapping.w_avg" in straight["model"] and "last_r1" in straight["model"]


def test_a_decaying_learning_rate_keeps_the_discriminators_lazy_r1_factor():
    from gan_core.variants.images.stylegan import StyleGAN

    config = config_for("stylegan", steps=4, lr_decay_start=0.5, **TINY)  # r1_interval 2: c = 2/3
    model = StyleGAN(config, (1, 16, 16), 10)
    model.attach_optimizers(model.configure_optimizers())
    rates = {}
    for step in range(4):
        model.prepare_step(step)
        rates[step] = {name: opt.param_groups[0]["lr"] for name, opt in model.optimizers.items()}
    lazy = 2 / 3
    assert rates[0] == pytest.approx({"generator": config.lr_g, "discriminator": config.lr_d * lazy})
    assert rates[3] == pytest.approx({"generator": config.lr_g / 3, "discriminator": config.lr_d * lazy / 3})


def test_the_crossover_at_the_last_layer_is_no_mixing(style_model):
    generator = require_style_generator(style_model)
    layers = crossover_layers(style_model, generator.num_ws)
    grid = style_mixing_grid(style_model, [1, 2, 3], [4, 5], layers)
    # Equal up to float rounding: a batch of 6 and a batch of 3 may sum in another order.
    torch.testing.assert_close(grid.mixed, grid.sources_a.repeat_interleave(2, 0), rtol=0, atol=1e-5)
    everything_from_b = style_mixing_grid(style_model, [1, 2, 3], [4, 5], crossover_layers(style_model, 0))
    torch.testing.assert_close(everything_from_b.mixed, grid.sources_b.repeat(3, 1, 1, 1), rtol=0, atol=1e-5)
    assert (everything_from_b.mixed - grid.mixed).abs().max() > 0.05, "the seeds draw different images"


def test_bands_split_the_layers_and_mixing_takes_b_only_there(style_model):
    generator = require_style_generator(style_model)
    bands = style_bands(16)
    assert sorted(i for band in bands.values() for i in band) == list(range(generator.num_ws))
    layers = band_layers(style_model, ["fine"])
    w_a, w_b = mapped(style_model, seed_latents(style_model, [1])), mapped(style_model, seed_latents(style_model, [2]))
    ws = mix(w_a, w_b, layers)
    for index in range(generator.num_ws):
        expected = w_b if index in bands["fine"] else w_a
        assert torch.equal(ws[:, index], expected)
    with pytest.raises(ConfigError, match="coarse, middle, fine"):
        band_layers(style_model, ["texture"])


def test_psi_one_is_no_truncation_and_psi_zero_is_the_mean_w_image_for_every_seed(style_model):
    seeds = [0, 1, 2, 3]
    torch.testing.assert_close(sample(style_model, seeds, psi=1.0), generate_each(style_model, seeds), rtol=0, atol=1e-5)
    at_zero = sample(style_model, seeds, psi=0.0)
    mean_image = mean_w_image(style_model)
    for image in at_zero:
        torch.testing.assert_close(image, mean_image[0])
    halfway = sample(style_model, seeds, psi=0.5)
    assert not torch.equal(halfway, at_zero) and not torch.equal(halfway, sample(style_model, seeds, psi=1.0))


def generate_each(model, seeds):
    """What every other page draws for these seeds (one sample per seed)."""
    return torch.cat([generate(model, 1, seed=seed) for seed in seeds])


def test_truncation_is_the_papers_formula():
    w, w_avg = torch.randn(3, 5), torch.randn(5)
    torch.testing.assert_close(truncate(w, w_avg, 0.7), w_avg + 0.7 * (w - w_avg))


@pytest.mark.parametrize("psi", [-0.1, 1.5, float("nan"), "a lot"])
def test_psi_outside_zero_one_is_refused_with_one_message(style_model, psi):
    with pytest.raises(ConfigError, match=r"truncation psi must be a number in \[0, 1\]"):
        sample(style_model, [1], psi=psi)


def test_noise_off_and_resampled_noise_change_the_image_but_stored_noise_repeats(style_model):
    generator = require_style_generator(style_model)
    trained = [layer.noise_strength.detach().clone() for layer in generator.synthesis.layers]
    with torch.no_grad():  # a 6-step model's noise scales are still ~0: give them weight to see an effect
        for layer in generator.synthesis.layers:
            layer.noise_strength.fill_(0.5)
    try:
        ws = mapped(style_model, seed_latents(style_model, [1, 2])).unsqueeze(1).expand(-1, generator.num_ws, -1)
        stored = synthesize(style_model, ws, Noise("const"))
        assert torch.equal(stored, synthesize(style_model, ws, Noise("const")))
        off = synthesize(style_model, ws, Noise("none"))
        first, second = synthesize(style_model, ws, Noise("random", 1)), synthesize(style_model, ws, Noise("random", 2))
        assert torch.equal(first, synthesize(style_model, ws, Noise("random", 1))), "a noise seed repeats"
        assert not torch.equal(first, second) and not torch.equal(off, stored)
    finally:
        with torch.no_grad():
            for layer, scale in zip(generator.synthesis.layers, trained):
                layer.noise_strength.copy_(scale)
    with pytest.raises(ConfigError, match="noise must be one of"):
        Noise("loud")


def test_a_conditional_checkpoint_is_refused_for_style_mixing(cgan_checkpoint):
    with pytest.raises(CheckpointError, match="class-conditional cgan checkpoint; style mixing.*need a StyleGAN"):
        require_style_generator(load_generator(cgan_checkpoint))


def test_a_stylegan_checkpoint_is_refused_where_a_conditional_model_is_expected(style_model):
    with pytest.raises(CheckpointError, match="stylegan checkpoint, which is not class-conditional"):
        require_conditional(style_model)


def test_seeds_are_parsed_or_refused_with_one_message():
    assert parse_seeds("1, 2, 5-7") == [1, 2, 5, 6, 7]
    for text, message in [("", "at least one seed"), ("1, x", "integers separated by commas"),
                          ("1-40", "at most 16"), ("-3", r"seeds must be integers in \[0")]:
        with pytest.raises(ConfigError, match=message):
            parse_seeds(text)


def test_the_generator_is_the_papers_shape(style_model):
    generator = require_style_generator(style_model)
    assert isinstance(generator, StyleGenerator)
    assert generator.num_ws == 6  # 16×16: 4×4 conv, two 8×8, two 16×16 convs, the last RGB layer
    assert generator.synthesis.const.shape[1:] == (4, 4), "a learned constant 4×4 input"
    assert all(layer.noise_strength.shape == (layer.conv.weight.shape[0],) for layer in generator.synthesis.layers), \
        "one learned noise scale per channel"


# --- the /style page ----------------------------------------------------------------------------------------
@pytest.fixture
def style_page_env(monkeypatch, tmp_path, style_run):
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    shutil.copy(style_run / "generator.safetensors", checkpoints / "stylegan-mnist.safetensors")
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(checkpoints))
    return checkpoints


def open_style_page() -> AppTest:
    return open_app_page("app_pages/style.py")


def grid_source(at: AppTest) -> str:
    return at.get("image")[0].value[0]


def test_style_page_draws_the_grid_and_reacts_to_layers_psi_and_noise(style_page_env):
    at = open_style_page()
    assert not at.error
    first = grid_source(at)
    at.multiselect(key="style.bands").set_value(["coarse"]).run()
    coarse = grid_source(at)
    assert coarse != first
    at.slider(key="style.psi").set_value(0.0).run()
    assert grid_source(at) != coarse
    at.toggle(key="style.noise_on").set_value(False).run()
    assert not at.exception and not at.error
    at.radio(key="style.how").set_value("From a crossover layer").run()
    at.slider(key="style.crossover").set_value(0).run()
    assert not at.exception and not at.error
    labels = [button.label for button in at.get("download_button")]
    assert labels == ["Download the grid (PNG)", "Download the truncation rows (PNG)"]


def test_style_page_says_what_is_wrong_with_bad_seeds(style_page_env):
    at = open_style_page()
    at.text_input(key="style.seeds_a").input("1, two").run()
    assert not at.exception
    assert "integers separated by commas" in at.error[0].value


def test_style_page_refuses_a_conditional_checkpoint_offered_to_it(style_page_env, cgan_checkpoint, monkeypatch):
    """A conditional generator that reached the page's list (a hand-made file, a renamed variant) gets one message."""
    import gan_core.app.style as style_app

    monkeypatch.setattr(style_app, "STYLE_PAGE", "/conditional")  # the page now lists conditional generators
    shutil.copy(cgan_checkpoint, style_page_env / "cgan-mnist.safetensors")
    (style_page_env / "stylegan-mnist.safetensors").unlink()
    at = open_style_page()
    assert len(at.error) == 1 and "class-conditional cgan checkpoint" in at.error[0].value


def test_style_page_without_models_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path / "none"))
    at = open_style_page()
    assert at.info and "No StyleGAN model" in at.info[0].value
