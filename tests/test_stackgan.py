"""StackGAN: both stages train with finite losses named per stage, Stage-I freezes when Stage-II starts, the
checkpoint carries the encoder and vocabulary, resume is exact across the phase change, the KL term and the
matching-aware discriminator do what the paper says, and the CLI draws from a caption."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from stopping import StopAtStep, assert_resume_is_exact

from gan_core.checkpoints import load_generator, read_metadata
from gan_core.cli import main
from gan_core.nets.stackgan import kl_to_standard_normal
from gan_core.registry import config_for
from gan_core.text_to_image import generate_for_caption, stage_names, takes_captions, understand
from gan_core.training import train
from gan_core.training.run_files import RunFiles


def tiny(steps: int, stage1_steps: int, **overrides):
    values = dict(steps=steps, stage1_steps=stage1_steps, image_size=16, width=8, noise_dim=8, condition_dim=4,
                  embedding_dim=8, residual_blocks=1, batch_size=8, device="cpu", log_every=1, sample_every=1000,
                  checkpoint_every=1000, seed=1)
    values.update(overrides)
    return config_for("stackgan", **values)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, digits16):
    folder = tmp_path_factory.mktemp("stackgan")
    assert train(tiny(4, 2, log_every=3), folder, dataset=digits16).status == "finished"
    return folder


def test_both_stages_train_with_finite_losses_named_per_stage(trained):
    rows = list(RunFiles(trained).read_metrics())
    assert [row["step"] for row in rows] == [3, 4]
    for row in rows:
        assert all(math.isfinite(value) for value in row.values()), row
    first, last = rows
    # Steps 1-2 are Stage-I (with the encoder), step 3 Stage-II: one log row averages each name over its own steps.
    assert {"D_real_I", "D_wrong_I", "D_fake_I", "G_GAN_I", "G_KL_I", "KL_I", "text_CE"} <= set(first)
    assert {"D_real_II", "D_wrong_II", "D_fake_II", "G_GAN_II", "KL_II"} <= set(first)
    assert "G_GAN_I" not in last and "text_CE" not in last


def test_stage_one_and_the_encoder_are_frozen_while_stage_two_trains(digits16, tmp_path):
    config = tiny(5, 2)  # the update after step 2 starts Stage-II (and, with EMA, adopts the averaged Stage-I)
    assert train(config, tmp_path / "split", [StopAtStep(3)], dataset=digits16).status == "cancelled"
    before = torch.load(tmp_path / "split" / "resume.pt", weights_only=True)["model"]
    train(config, tmp_path / "split", dataset=digits16, resume=True)
    after = torch.load(tmp_path / "split" / "resume.pt", weights_only=True)["model"]
    for key, value in before.items():
        frozen = key.startswith(("generator.stage_one.", "generator.text_encoder.", "generator.conditioning.0."))
        if frozen:
            assert torch.equal(after[key], value), key
    assert any(not torch.equal(after[key], value) for key, value in before.items() if key.startswith("generator.stage_two."))


def test_resume_across_the_phase_change_is_exact(digits16, tmp_path):
    assert_resume_is_exact(tiny(5, 3), tmp_path, digits16, stop_at=2)


def test_with_ema_stage_two_trains_on_the_averaged_stage_one_and_resume_stays_exact(digits16, tmp_path):
    config = tiny(5, 3, ema_decay=0.9)
    straight, _ = assert_resume_is_exact(config, tmp_path, digits16, stop_at=2)
    model = straight["model"]
    stage_one = [key[len("generator."):] for key in model if key.startswith("generator.stage_one.")]
    weights = [key for key in stage_one if key.endswith("weight")]
    assert weights and all(torch.equal(model["generator." + key], model["ema_generator." + key]) for key in weights)
    statistics = [key for key in stage_one if key.endswith("running_mean")]
    assert statistics and all(torch.isfinite(model["generator." + key]).all() for key in statistics)


def test_every_step_moves_the_averaged_generator(digits16):
    from gan_core.variants.images.stackgan import StackGAN

    torch.manual_seed(0)
    model = StackGAN(tiny(4, 2, ema_decay=0.9), (1, 16, 16), 10)
    model.attach_optimizers(model.configure_optimizers())
    source = model.batch_source(digits16, 8, torch.device("cpu"))
    before = [p.clone() for p in model.ema_generator.stage_one.parameters()]
    model.prepare_step(0)
    model.train_step(source)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.ema_generator.stage_one.parameters()))


def test_the_average_warms_up_again_when_stage_two_starts():
    from gan_core.variants.images.stackgan import StackGAN

    model = StackGAN(tiny(200, 100, ema_decay=0.999), (1, 16, 16), 10)
    decays = []
    for step in (0, 99, 100, 101, 199):
        model.steps_done = step
        decays.append(model.ema_decay_now())
    assert decays[0] == decays[2] == pytest.approx(0.1) and decays[3] == pytest.approx(2 / 11)
    assert decays[1] == pytest.approx(100 / 109) and decays[4] == pytest.approx(100 / 109)


def test_the_sampling_generator_gets_standing_statistics_and_leaves_training_alone(digits16):
    from gan_core.variants.images.stackgan import StackGAN

    model = StackGAN(tiny(4, 2, ema_decay=0.9), (1, 16, 16), 10)
    before = {key: value.clone() for key, value in model.state_dict().items()}
    sampler = model.sampling_generator()
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())
    norm = sampler.stage_two.encode[3]
    assert not torch.equal(norm.running_var, torch.ones_like(norm.running_var)), "statistics measured, not the defaults"
    assert sampler is not model.ema_generator


def test_learning_rate_decay_reaches_every_optimiser(digits16, tmp_path):
    assert train(tiny(4, 2, lr_decay_start=0.5), tmp_path, dataset=digits16).status == "finished"


def test_the_checkpoint_holds_encoder_vocabulary_and_both_stages(trained):
    path = trained / "generator.safetensors"
    metadata = read_metadata(path)
    assert "seven" in metadata["data"] and "held_out_combinations" in metadata["data"]
    model = load_generator(path)
    assert takes_captions(model) and stage_names(model) == ("Stage-I", "Stage-II")
    assert any(key.startswith("text_encoder.") for key in model.generator.state_dict())
    first = generate_for_caption(model, 4, seed=2, caption="a thin 3 leaning left")
    assert first.shape == (4, 1, 16, 16)
    assert torch.equal(first, generate_for_caption(load_generator(path), 4, seed=2, caption="a thin 3 leaning left"))
    assert generate_for_caption(model, 4, seed=2, caption="a thin 3 leaning left", stage=1).shape == (4, 1, 8, 8)
    assert not torch.equal(first, generate_for_caption(model, 4, seed=2, caption="a bold 8 leaning right"))


def test_kl_is_zero_exactly_at_the_prior_and_positive_elsewhere():
    mu, log_variance = torch.zeros(5, 16), torch.zeros(5, 16)  # σ = 1
    assert kl_to_standard_normal(mu, log_variance).item() == 0.0
    assert kl_to_standard_normal(mu + 0.5, log_variance).item() == pytest.approx(0.5 * 0.25 * 16)
    assert kl_to_standard_normal(mu, log_variance + 1.0).item() > 0


def test_real_images_with_mismatched_captions_are_fed_to_d_as_fakes(digits16):
    from gan_core.variants.images.stackgan import StackGAN

    torch.manual_seed(0)
    config = tiny(4, 2)
    model = StackGAN(config, (1, 16, 16), 10)
    model.attach_optimizers(model.configure_optimizers())
    discriminator = model.discriminator[0]
    calls = []
    original = discriminator.judge

    def spy(features, embedding):
        logits = original(features, embedding)
        calls.append((features, embedding, logits))
        return logits

    discriminator.judge = spy
    real = torch.rand(8, 1, 16, 16) * 2 - 1
    right, wrong = torch.randn(8, 8), torch.randn(8, 8)
    logs = model.gan_step(0, real, right, wrong)
    real_features = calls[0][0]
    wrong_calls = [logits for features, embedding, logits in calls if embedding is wrong]
    assert len(wrong_calls) == 1 and calls[1][0] is real_features, "the real images' features, with the wrong text"
    as_fake = 0.5 * F.binary_cross_entropy_with_logits(wrong_calls[0], torch.zeros(8))
    torch.testing.assert_close(logs["D_wrong_I"], as_fake.detach())


def test_the_encoder_learns_to_read_the_captions(digits16, tmp_path):
    train(tiny(60, 60, log_every=20, embedding_dim=32), tmp_path, dataset=digits16)
    rows = list(RunFiles(tmp_path).read_metrics())
    assert rows[-1]["text_CE"] < 0.8 * rows[0]["text_CE"]
    model = load_generator(tmp_path / "generator.safetensors")
    assert understand(model, "a bold seven leaning right").digit == 7


def test_cli_samples_from_a_caption_and_a_stage(trained, tmp_path, capsys):
    checkpoint = str(trained / "generator.safetensors")
    out = tmp_path / "seven.npy"
    assert main(["sample", "--checkpoint", checkpoint, "--caption", "a thin 3 leaning left", "--n", "16",
                 "--out", str(out)]) == 0
    assert np.load(out).shape == (16, 1, 16, 16)
    assert main(["sample", "--checkpoint", checkpoint, "--caption", "a 3", "--stage", "1", "--n", "4",
                 "--out", str(tmp_path / "coarse.png")]) == 0
    assert (tmp_path / "coarse.png").is_file()


@pytest.mark.parametrize("arguments, message", [
    (["--caption", ""], "caption is empty"),
    (["--caption", "🙂🙂"], "none of the words is known"),
    (["--caption", "x" * 10_000], "10,000 characters"),
    (["--caption", "a 3", "--stage", "3"], "stage must be 1 to 2"),
    (["--caption", "a 3", "--label", "3"], "leave out --label"),
])
def test_cli_bad_captions_get_one_clear_line(trained, tmp_path, capsys, arguments, message):
    code = main(["sample", "--checkpoint", str(trained / "generator.safetensors"), *arguments, "--out",
                 str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_a_caption_for_a_model_that_takes_none_is_refused(tmp_path, capsys):
    code = main(["sample", "--checkpoint", "checkpoints/cgan-mnist.safetensors", "--caption", "a 3", "--out",
                 str(tmp_path / "x.png")])
    assert code == 2 and "does not take a caption" in capsys.readouterr().err


def test_the_dashboard_preview_draws_with_the_sampling_generator(digits16):
    """With EMA, the live preview shows the averaged generator (what an exported file draws), not the live one."""
    from gan_core.variants.images.stackgan import StackGAN

    torch.manual_seed(0)
    model = StackGAN(tiny(4, 2, ema_decay=0.9), (1, 16, 16), 10)
    model.batch_source(digits16, 8, torch.device("cpu"))
    model.setup_preview(digits16, torch.device("cpu"), seed=0)
    with torch.no_grad():
        for parameter in model.generator.stage_two.parameters():
            parameter.add_(0.5)  # the live generator now draws something else than the average
    images, _ = model.preview()
    sampler = model.sampling_generator().eval()
    with torch.inference_mode():
        tokens = model.captions.tokens[model.preview_inputs["rows"]]
        expected = sampler.draw(model.preview_inputs["latent"], tokens, stage=2)
        live = model.generator.eval().draw(model.preview_inputs["latent"], tokens, stage=2)
    assert torch.allclose(images[1::2], expected)
    assert not torch.allclose(images[1::2], live)
