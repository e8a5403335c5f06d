"""Every registered noise-to-image variant trains, checkpoints and resumes exactly."""

import math

import pytest
import torch
from stopping import StopAtStep, assert_resume_is_exact, logged_steps

from gan_core.checkpoints import load_generator
from gan_core.inference import generate
from gan_core.registry import config_for, variants
from gan_core.training import train
from gan_core.training.run_files import RunFiles

NOISE_VARIANTS = [name for name, spec in variants().items() if spec.trains_on_images and not spec.image_to_image]


def tiny_config(variant: str, steps: int, **overrides):
    values = dict(steps=steps, image_size=16, width=8, batch_size=16, device="cpu", log_every=1,
                  sample_every=1000, checkpoint_every=1000, seed=3)
    values.update(overrides)
    return config_for(variant, **values)


def test_the_eight_paper_variants_are_registered():
    assert {"gan", "dcgan", "cgan", "acgan", "infogan", "wgan", "wgan_gp", "lsgan"} <= set(NOISE_VARIANTS)


@pytest.mark.parametrize("variant", NOISE_VARIANTS)
def test_variant_trains_with_finite_losses_and_round_trips(variant, digits16, tmp_path):
    result = train(tiny_config(variant, 3), tmp_path, dataset=digits16)
    assert result.status == "finished", result.message
    rows = list(RunFiles(tmp_path).read_metrics())
    assert [row["step"] for row in rows] == [1, 2, 3]
    for row in rows:
        assert all(math.isfinite(value) for value in row.values()), row
    names = {name.rsplit("/", 1)[-1] for name in rows[-1]}  # "level 1/G_GAN": one level of a pyramid (LAPGAN)
    for loss in ("G_GAN", "D_real", "D_fake"):  # a variant in stages names each stage's (StackGAN: G_GAN_I)
        assert any(name == loss or name.startswith(f"{loss}_") for name in names), (loss, sorted(rows[-1]))

    first = load_generator(tmp_path / "generator.safetensors")
    second = load_generator(tmp_path / "generator.safetensors")
    assert first.variant == variant and first.step == 3
    images = generate(first, 6, seed=5)
    assert images.shape == (6, 1, 16, 16)
    assert torch.equal(images, generate(second, 6, seed=5))
    assert images.min() >= -1 and images.max() <= 1
    assert RunFiles(tmp_path).sample_paths(), "a sample grid is written"


@pytest.mark.parametrize("variant", NOISE_VARIANTS)
def test_resume_continues_as_if_never_stopped(variant, digits16, tmp_path):
    # The same config both times: schedules that follow the step count (InfoGAN's decaying learning
    # rates) make a run stopped at 2 of 4 steps differ from one trained for 2 and extended to 4.
    assert_resume_is_exact(tiny_config(variant, 4), tmp_path, digits16, stop_at=2)
    assert logged_steps(tmp_path / "split") == [1, 2, 3, 4], "metrics after the checkpoint are neither lost nor duplicated"


def test_linear_decay_follows_the_official_policy():
    from gan_core.schedules import linear_decay

    # 4 steps, decay from half-way: n_epochs = 2 constant, n_epochs_decay = 2 falling by 1/3 each.
    assert [linear_decay(step, 4, 0.5) for step in range(4)] == pytest.approx([1, 1, 2 / 3, 1 / 3])
    assert [linear_decay(step, 4, 0.0) for step in range(4)] == pytest.approx([0.8, 0.6, 0.4, 0.2])


def test_the_ema_decay_warms_up_so_the_random_start_fades_quickly():
    from gan_core.variants.images.dcgan import DCGAN

    model = DCGAN(tiny_config("dcgan", 1, ema_decay=0.999), (1, 16, 16), 10)
    decays = []
    for step in (0, 90, 990, 100_000):
        model.steps_done = step
        decays.append(model.ema_decay_now())
    assert decays == pytest.approx([0.1, 0.91, 0.991, 0.999])


def test_a_cancelled_run_with_decaying_learning_rates_and_ema_resumes_exactly(digits16, tmp_path):
    config = tiny_config("dcgan", 4, lr_decay_start=0.25, ema_decay=0.99)  # the EMA warm-up follows the step too
    straight = train(config, tmp_path / "straight", dataset=digits16)
    assert train(config, tmp_path / "split", [StopAtStep(2)], dataset=digits16).status == "cancelled"
    resumed = train(config, tmp_path / "split", dataset=digits16, resume=True)
    assert straight.status == resumed.status == "finished"
    a = torch.load(tmp_path / "straight" / "resume.pt", weights_only=True)
    b = torch.load(tmp_path / "split" / "resume.pt", weights_only=True)
    for key, value in a["model"].items():
        torch.testing.assert_close(b["model"][key], value, rtol=1e-5, atol=1e-6, msg=key)
    last_rate = a["optimizers"]["generator"]["param_groups"][0]["lr"]
    assert last_rate == pytest.approx(config.lr_g * 0.25) == b["optimizers"]["generator"]["param_groups"][0]["lr"]


def test_the_saved_ema_generator_carries_batch_norm_statistics_of_its_own_outputs(digits16, tmp_path):
    # A large learning rate and a slow average make the live and the averaged generators differ a lot,
    # so statistics copied from the live one would be far from the averaged one's own.
    config = tiny_config("dcgan", 3, ema_decay=0.999, lr_g=0.05)
    train(config, tmp_path, dataset=digits16)
    loaded = load_generator(tmp_path / "generator.safetensors")
    first_norm = next(m for m in loaded.generator.modules() if isinstance(m, torch.nn.BatchNorm2d))
    saved_mean, saved_var, captured = first_norm.running_mean.clone(), first_norm.running_var.clone(), {}
    first_norm.register_forward_pre_hook(lambda module, inputs: captured.setdefault("x", inputs[0].clone()))
    loaded.generator.train()
    with torch.no_grad():
        loaded.generator(loaded.layout.build(2048, seed=11, device=torch.device("cpu")))
    own_mean, own_var = captured["x"].mean(dim=(0, 2, 3)), captured["x"].var(dim=(0, 2, 3))
    torch.testing.assert_close(saved_mean, own_mean, atol=0.02, rtol=0.02)
    torch.testing.assert_close(saved_var, own_var, atol=0.02, rtol=0.1)


@pytest.mark.parametrize("variant", ["cgan", "acgan"])
def test_conditional_variants_on_unlabelled_data_say_what_they_need(variant, digits16, tmp_path):
    import dataclasses

    from gan_core.errors import ConfigError

    unlabelled = dataclasses.replace(digits16, labels=None, test_labels=None, class_names=[])
    with pytest.raises(ConfigError, match="needs a labelled dataset"):
        train(tiny_config(variant, 1), tmp_path, dataset=unlabelled)


def test_bad_values_are_rejected_naming_the_field_and_range():
    from gan_core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"Batch size must be a whole number from 1 to 4,096; got 0"):
        config_for("dcgan", batch_size=0)
    with pytest.raises(ConfigError, match="Objective must be one of"):
        config_for("dcgan", objective="magic")
    with pytest.raises(ConfigError, match="unknown variant 'stylegan3'"):
        config_for("stylegan3")


def test_a_fresh_run_never_overwrites_an_existing_one(digits16, tmp_path):
    from gan_core.errors import ConfigError

    train(tiny_config("dcgan", 1), tmp_path, dataset=digits16)
    before = (tmp_path / "generator.safetensors").read_bytes()
    with pytest.raises(ConfigError, match="already holds a run"):
        train(tiny_config("dcgan", 2), tmp_path, dataset=digits16)
    assert (tmp_path / "generator.safetensors").read_bytes() == before


@pytest.mark.parametrize("variant", ["dcgan", "cgan", "infogan"])
def test_dcgan_family_starts_from_the_papers_normal_initialisation(variant):
    from gan_core.registry import get_variant

    model = get_variant(variant).model_class(tiny_config(variant, 1), (1, 16, 16), 10)
    for name, parameter in model.named_parameters():
        if parameter.dim() > 1 and parameter.numel() >= 1000:
            assert float(parameter.detach().std()) == pytest.approx(0.02, rel=0.15), name


def test_refresh_seconds_logs_and_redraws_the_live_preview_between_step_counts(digits16, tmp_path):
    config = tiny_config("dcgan", 3, log_every=1000, refresh_seconds=1e-9)
    train(config, tmp_path, dataset=digits16)
    files = RunFiles(tmp_path)
    assert [row["step"] for row in files.read_metrics()] == [1, 2, 3], "every step is past the tiny refresh time"
    assert files.live_sample.is_file() and files.live_sample not in files.sample_paths()
    train(tiny_config("dcgan", 3, log_every=1000), tmp_path / "plain", dataset=digits16)
    assert [row["step"] for row in RunFiles(tmp_path / "plain").read_metrics()] == [3]
    assert not RunFiles(tmp_path / "plain").live_sample.exists()


def test_loading_a_checkpoint_leaves_the_global_random_stream_alone(digits16, tmp_path):
    # Benchmarks and callbacks load generators in the middle of training; that must not change the run.
    train(tiny_config("dcgan", 1), tmp_path, dataset=digits16)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    load_generator(tmp_path / "generator.safetensors")
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("fake_class_loss", [True, False])
def test_acgan_discriminator_learns_the_labels_of_fakes_only_when_asked(fake_class_loss):
    """The paper's L_C for D covers fakes too; with fake_class_loss off, D's class loss reads real logits only."""
    from gan_core.variants.images.acgan import ACGAN

    config = config_for("acgan", fake_class_loss=fake_class_loss)
    model = ACGAN(config, (1, 16, 16), 10)
    real_logits = torch.randn(4, 10, requires_grad=True)
    fake_logits = torch.randn(4, 10, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 3])
    losses = model.discriminator_extra({"class": real_logits}, {"class": fake_logits}, labels, {"labels": labels})
    losses["D_cls"].backward()
    assert real_logits.grad.abs().sum() > 0
    assert (fake_logits.grad is not None and fake_logits.grad.abs().sum() > 0) == fake_class_loss


def test_gradient_penalty_is_computed_in_float32_under_bf16_autocast():
    """The penalty's critic pass runs with autocast off, so bf16 training gets the exact float32 penalty."""
    from torch import nn

    from gan_core.losses import gradient_penalty

    torch.manual_seed(0)
    critic = nn.Sequential(nn.Conv2d(1, 8, 3), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(8 * 14 * 14, 1))
    real, fake = torch.randn(4, 1, 16, 16), torch.randn(4, 1, 16, 16)
    torch.manual_seed(1)
    exact = gradient_penalty(critic, real, fake)
    torch.manual_seed(1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = gradient_penalty(critic, real, fake)
    assert mixed.dtype == torch.float32
    assert torch.equal(mixed, exact)


def test_a_gradient_penalty_on_a_batch_norm_critic_is_refused():
    from gan_core.errors import ConfigError
    from gan_core.registry import config_for, get_variant
    from gan_core.variants.images.dcgan import DCGAN

    config = config_for("dcgan", image_size=16, width=8).replace(gp_weight=10.0)  # e.g. a hand-edited config file
    with pytest.raises(ConfigError, match="batch norm.*set gp_weight to 0, or use wgan_gp"):
        DCGAN(config, (1, 16, 16), 10)
    model = get_variant("wgan_gp").model_class(config_for("wgan_gp", image_size=16, width=8), (1, 16, 16), 10)
    assert model.config.gp_weight == 10.0


def test_cgan_mismatch_term_is_off_by_default_and_shows_real_images_under_wrong_labels(digits16, tmp_path):
    from gan_core.variants.images.cgan import CGAN

    plain = train(tiny_config("cgan", 2), tmp_path / "plain", dataset=digits16)
    assert plain.status == "finished" and "D_mismatch" not in next(iter(RunFiles(tmp_path / "plain").read_metrics()))

    model = CGAN(tiny_config("cgan", 1, mismatch_weight=2.0), (1, 16, 16), 10)
    seen = []
    model.discriminator.register_forward_pre_hook(lambda module, args: seen.append(args[1].clone()))
    real, labels = torch.zeros(6, 1, 16, 16), torch.arange(6)
    terms = model.discriminator_real_extra(real, labels)
    wrong = seen[0][:, :, 0, 0].argmax(1)
    assert (wrong != labels).all() and ((wrong >= 0) & (wrong < 10)).all()
    scores = model.discriminator(real, model.condition(wrong))["adv"]  # BN in train mode: the same batch, the same output
    expected = 2.0 * torch.nn.functional.binary_cross_entropy_with_logits(scores, torch.zeros_like(scores))
    torch.testing.assert_close(terms["D_mismatch"], expected)

    result = train(tiny_config("cgan", 2, mismatch_weight=1.0), tmp_path / "matched", dataset=digits16)
    rows = list(RunFiles(tmp_path / "matched").read_metrics())
    assert result.status == "finished" and all(math.isfinite(row["D_mismatch"]) for row in rows)
