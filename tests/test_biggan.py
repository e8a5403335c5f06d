"""BigGAN: its networks, its regulariser, truncation, and the truncation control on /conditional."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from app_testing import open_app_page
from stopping import assert_resume_is_exact, logged_steps

from gan_core.app.models import interpolation_png
from gan_core.checkpoints import load_generator
from gan_core.errors import CheckpointError, ConfigError
from gan_core.inference import allows_truncation, generate, interpolate_noise, require_conditional
from gan_core.latent import LatentLayout
from gan_core.nets.biggan import BigGanGenerator, ProjectionDiscriminator, orthogonal_penalty
from gan_core.registry import config_for, get_variant
from gan_core.training import train
from gan_core.truncation import truncate_noise

TINY = dict(image_size=16, width=8, batch_size=16, noise_dim=12, device="cpu", log_every=1, sample_every=1000,
            checkpoint_every=1000, seed=3, ema_decay=0.0)  # no EMA: its standing statistics cost seconds per sample


def tiny_config(variant: str = "biggan", steps: int = 3, **overrides):
    return config_for(variant, **{**TINY, "steps": steps, **overrides})


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory, digits16) -> dict[str, Path]:
    """A 3-step BigGAN and a 2-step CGAN and DCGAN, as checkpoints of a folder standing in for checkpoints/."""
    folder = tmp_path_factory.mktemp("checkpoints")
    for variant, steps in (("biggan", 3), ("cgan", 2), ("dcgan", 2)):
        run_dir = tmp_path_factory.mktemp(variant)
        config = tiny_config(variant, steps) if variant == "biggan" else config_for(
            variant, **{**TINY, "noise_dim": 8, "steps": steps})
        result = train(config, run_dir, dataset=digits16)
        assert result.status == "finished", result.message
        shutil.copy(run_dir / "generator.safetensors", folder / f"{variant}-mnist.safetensors")
        shutil.copy(run_dir / "metrics.jsonl", folder / f"{variant}-metrics.jsonl")
    return {"folder": folder, **{variant: folder / f"{variant}-mnist.safetensors" for variant in ("biggan", "cgan", "dcgan")}}


def test_the_defaults_are_the_papers_where_they_fit():
    config = get_variant("biggan").default_config()
    assert config.objective == "hinge" and config.n_critic == 2 and config.beta1 == 0.0
    assert config.lr_d == pytest.approx(4 * config.lr_g), "D's learning rate is 4× G's, as in the paper"
    assert config.extra["ortho_weight"] == pytest.approx(1e-4)
    with pytest.raises(ConfigError, match="does not read"):
        config_for("biggan", label_smoothing=0.1)  # the hinge loss is BigGAN's; no other objective is offered


def test_a_few_steps_are_finite_and_log_the_orthogonal_penalty(tiny_runs):
    rows = [json.loads(line) for line in (tiny_runs["folder"] / "biggan-metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [1, 2, 3]
    for row in rows:
        assert all(math.isfinite(value) for value in row.values() if isinstance(value, float)), row
        assert row["G_ortho"] > 0 and {"D_real", "D_fake", "G_GAN"} <= set(row)


def test_checkpoint_round_trip_samples_the_same_images(tiny_runs):
    first, second = load_generator(tiny_runs["biggan"]), load_generator(tiny_runs["biggan"])
    assert first.variant == "biggan" and first.step == 3 and first.layout.num_labels == 10
    images = generate(first, 6, seed=5, labels=[0, 1, 2, 3, 4, 5])
    assert images.shape == (6, 1, 16, 16) and images.abs().max() <= 1
    assert torch.equal(images, generate(second, 6, seed=5, labels=[0, 1, 2, 3, 4, 5]))


def test_resume_continues_as_if_never_stopped(digits16, tmp_path):
    assert_resume_is_exact(tiny_config(steps=4), tmp_path, digits16, stop_at=2)
    assert logged_steps(tmp_path / "split") == [1, 2, 3, 4]


def test_orthogonal_penalty_is_zero_for_orthogonal_filters_and_grows_with_their_overlap():
    layer = torch.nn.Linear(6, 6, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.linalg.qr(torch.randn(6, 6))[0] * torch.arange(1.0, 7.0)[:, None])
    assert float(orthogonal_penalty(layer).detach()) == pytest.approx(0.0, abs=1e-8), "orthogonal rows, any norm: 0"
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 1.0], [1.0, 0.0]]).repeat(3, 3))
    rows = layer.weight.detach()
    gram = rows @ rows.T
    expected = float((gram - torch.diag(torch.diagonal(gram))).square().sum())
    assert float(orthogonal_penalty(layer).detach()) == pytest.approx(expected) and expected > 0
    assert float(orthogonal_penalty(layer, skip=(layer,))) == 0.0


def test_the_generators_penalty_leaves_the_shared_embedding_out():
    model = get_variant("biggan").model_class(tiny_config(), (1, 16, 16), 10)
    with_embedding = orthogonal_penalty(model.generator)
    without = model.generator_extra({}, {})["G_ortho"] / model.config.extra["ortho_weight"]
    assert float(without) == pytest.approx(float(with_embedding - orthogonal_penalty(model.generator.shared)), rel=1e-5)


def test_the_projection_discriminators_output_changes_with_the_label():
    torch.manual_seed(0)
    discriminator = ProjectionDiscriminator(1, 16, 10, width=8).eval()  # eval: spectral norm's estimate stays put
    images = torch.rand(4, 1, 16, 16) * 2 - 1
    with torch.no_grad():
        as_three = discriminator(images, torch.full((4,), 3))["adv"]
        as_seven = discriminator(images, torch.full((4,), 7))["adv"]
        features = discriminator.features(images)
    assert as_three.shape == (4, 1)
    assert not torch.allclose(as_three, as_seven)
    embedding = discriminator.embedding.weight  # spectrally normalised, as used in the forward pass
    torch.testing.assert_close(as_three - as_seven, ((embedding[3] - embedding[7]) * features).sum(1, keepdim=True))


def test_each_block_of_the_generator_gets_its_own_noise_chunk():
    generator = BigGanGenerator(noise_dim=12, num_classes=10, channels=1, image_size=16, width=8).eval()
    assert generator.chunk_sizes == [4, 4, 4]
    latent = LatentLayout(12, 10).build(2, 0, torch.device("cpu"), labels=[4, 4])
    with torch.no_grad():
        base = generator(latent)
        for chunk in range(3):
            changed = latent.clone()
            changed[:, chunk * 4:(chunk + 1) * 4] += 1.0
            assert not torch.allclose(generator(changed), base), f"chunk {chunk} reaches the image"


def test_truncation_redraws_only_the_values_beyond_the_threshold():
    noise = torch.randn(400, 20, generator=torch.Generator().manual_seed(1)).clamp(-3.5, 3.5)
    truncated = truncate_noise(noise, 0.5, torch.Generator().manual_seed(2))
    inside = noise.abs() <= 0.5
    assert truncated.abs().max() <= 0.5
    assert torch.equal(truncated[inside], noise[inside]), "values inside the threshold are kept"
    assert not torch.equal(truncated, noise)
    assert torch.equal(truncate_noise(noise, 4.0, torch.Generator().manual_seed(2)), noise), \
        "a threshold above every value changes nothing"
    # Redrawing (not clamping): the kept values are spread over the interval, not piled at its ends.
    assert float((truncated.abs() > 0.49).float().mean()) < 0.05


def test_a_truncated_sample_keeps_its_labels_and_narrows_the_noise(tiny_runs):
    model = load_generator(tiny_runs["biggan"])
    assert allows_truncation(model)
    plain = model.layout.build(8, 0, torch.device("cpu"), labels=3)
    truncated = model.layout.build(8, 0, torch.device("cpu"), labels=3, truncation=0.3)
    noise_dim = model.layout.noise_dim
    assert torch.equal(truncated[:, noise_dim:], plain[:, noise_dim:])
    assert truncated[:, :noise_dim].abs().max() <= 0.3
    assert plain[:, :noise_dim].abs().max() < 4
    assert torch.equal(generate(model, 8, seed=0, labels=3, truncation=4.0), generate(model, 8, seed=0, labels=3))
    assert not torch.equal(generate(model, 8, seed=0, labels=3, truncation=0.3), generate(model, 8, seed=0, labels=3))
    assert torch.equal(generate(model, 8, seed=0, labels=3, truncation=0.3),
                       generate(model, 8, seed=0, labels=3, truncation=0.3)), "same seed, same truncated images"


def test_an_interpolation_between_truncated_ends_stays_inside_the_threshold(tiny_runs):
    model = load_generator(tiny_runs["biggan"])
    noise_dim = model.layout.noise_dim
    walk = interpolate_noise(model.layout, 1, 2, 6, 3, 5, truncation=0.3)
    assert walk[:, :noise_dim].abs().max() <= 0.3
    assert torch.equal(walk[[0, -1]], torch.cat([model.layout.build(1, seed, torch.device("cpu"), labels=label,
                                                                    truncation=0.3) for seed, label in ((1, 3), (2, 5))]))
    plain = interpolate_noise(model.layout, 1, 2, 6, 3, 5)
    assert plain[:, :noise_dim].abs().max() > 0.3
    with pytest.raises(ConfigError, match="not sampled with truncated noise"):
        interpolation_png(load_generator(tiny_runs["cgan"]), 1, 2, 6, 3, 5, truncation=0.3)


@pytest.mark.parametrize("threshold", [0.0, 0.01, 5.0, -1.0, float("nan"), "a lot"])
def test_a_truncation_threshold_out_of_range_gets_one_clear_message(tiny_runs, threshold):
    model = load_generator(tiny_runs["biggan"])
    with pytest.raises(ConfigError, match=r"truncation must be a number in \[0.05, 4\]"):
        generate(model, 2, seed=0, labels=1, truncation=threshold)


def test_truncation_is_refused_for_models_that_do_not_sample_with_it(tiny_runs):
    model = load_generator(tiny_runs["cgan"])
    assert not allows_truncation(model)
    with pytest.raises(ConfigError, match="not sampled with truncated noise"):
        generate(model, 2, seed=0, labels=1, truncation=0.5)


def test_a_non_conditional_checkpoint_where_a_conditional_one_is_expected_says_so(tiny_runs):
    assert require_conditional(load_generator(tiny_runs["biggan"])).variant == "biggan"
    with pytest.raises(CheckpointError, match="dcgan-mnist.safetensors is a dcgan checkpoint, which is not class-condi"):
        require_conditional(load_generator(tiny_runs["dcgan"]))


def test_the_conditional_page_offers_truncation_for_biggan_only(monkeypatch, tmp_path, tiny_runs):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tiny_runs["folder"]))
    at = open_app_page("app_pages/conditional.py")
    models = at.selectbox(key="conditional.model")
    assert [option.split(" ")[0] for option in models.options] == ["biggan-mnist", "cgan-mnist"]
    images = lambda: [url for element in at.get("image") for url in element.value]  # noqa: E731
    plain = images()
    assert [toggle.key for toggle in at.toggle] == ["conditional.truncate"]
    at.toggle(key="conditional.truncate").set_value(True).run()
    assert not at.exception, at.exception
    at.slider(key="conditional.truncation").set_value(0.1).run()
    truncated = images()
    assert len(truncated) == len(plain) == 3 + 1
    assert all(after != before for after, before in zip(truncated, plain)), "every label row and the interpolation follow it"
    assert [element.proto.label for element in at.get("download_button")][0] == "Download these rows (PNG)"
    models.select_index(1).run()
    assert not at.exception, at.exception
    assert [toggle.key for toggle in at.toggle] == [], "no truncation control for a model without it"
    assert len(images()) == 3 + 1


def test_the_cli_samples_a_label_with_truncation_and_refuses_a_bad_threshold(tiny_runs, tmp_path, capsys):
    from gan_core.cli import main

    out = tmp_path / "sevens.npy"
    assert main(["sample", "--checkpoint", str(tiny_runs["biggan"]), "--n", "4", "--label", "7", "--truncation", "0.5",
                 "--out", str(out)]) == 0
    assert out.is_file()
    assert main(["sample", "--checkpoint", str(tiny_runs["biggan"]), "--n", "4", "--label", "7", "--truncation", "9",
                 "--out", str(out)]) == 2
    assert "truncation must be a number in [0.05, 4]" in capsys.readouterr().err
    assert main(["sample", "--checkpoint", str(tiny_runs["dcgan"]), "--n", "4", "--label", "7", "--out", str(out)]) == 2
    assert "not class-conditional" in capsys.readouterr().err


def test_too_little_noise_for_the_blocks_gets_a_clear_message():
    with pytest.raises(ConfigError, match="noise_dim must be at least 3"):
        get_variant("biggan").model_class(tiny_config(noise_dim=2), (1, 16, 16), 10)


def test_the_matching_aware_term_shows_the_projection_d_real_digits_under_wrong_labels():
    """`mismatch_weight` (shared with CGAN): real images with a label shifted away from the true one, scored as
    fakes with the hinge loss; off by default, as in the paper."""
    assert "D_mismatch" not in get_variant("biggan").model_class(tiny_config(), (1, 16, 16), 10).discriminator_real_extra(
        torch.zeros(4, 1, 16, 16), torch.arange(4))
    model = get_variant("biggan").model_class(tiny_config(mismatch_weight=0.5), (1, 16, 16), 10)
    model.discriminator.eval()  # spectral norm's power iteration stays put, so the two calls below agree
    seen = []
    model.discriminator.register_forward_pre_hook(lambda module, args: seen.append(args[1].clone()))
    real, labels = torch.rand(6, 1, 16, 16) * 2 - 1, torch.arange(6)
    term = model.discriminator_real_extra(real, labels)["D_mismatch"]
    wrong = seen[0]
    assert (wrong != labels).all() and ((wrong >= 0) & (wrong < 10)).all()
    with torch.no_grad():
        scores = model.discriminator(real, wrong)["adv"]
    torch.testing.assert_close(term.detach(), 0.5 * torch.relu(1 + scores).mean())
