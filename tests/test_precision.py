"""Mixed precision: bf16 autocast runs the networks' convolutions in bfloat16 and keeps everything else float32."""

import math

import pytest
import torch
from torch import nn

from gan_core import device as devices
from gan_core.checkpoints import load_generator
from gan_core.errors import ConfigError
from gan_core.registry import config_for, variants
from gan_core.training import Callback, train
from gan_core.training.run_files import RunFiles

CPU = torch.device("cpu")


def test_fp32_never_autocasts_and_bf16_always_does():
    assert devices.autocast_dtype(CPU, "fp32") is None
    assert devices.autocast_dtype(CPU, "bf16") is torch.bfloat16


@pytest.mark.parametrize("native", [True, False])
def test_auto_takes_bf16_only_where_the_hardware_has_it(native, monkeypatch):
    monkeypatch.setattr(devices, "has_native_bfloat16", lambda device: native)
    assert devices.autocast_dtype(CPU, "auto") is (torch.bfloat16 if native else None)


def test_an_unknown_precision_is_refused_naming_the_field():
    with pytest.raises(ConfigError, match="Precision must be one of fp32, bf16, auto"):
        config_for("dcgan", precision="fp16")


def test_bf16_on_a_device_without_autocast_support_says_what_to_use():
    with pytest.raises(ConfigError, match="use --precision fp32 or auto"):
        devices.autocast_dtype(torch.device("mps"), "bf16")


class ConvolutionDtypes(Callback):
    """Records the dtype of every convolution output in the generator and discriminator during training."""

    def __init__(self):
        self.seen: set[torch.dtype] = set()

    def on_start(self, trainer):
        for module in trainer.model.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                module.register_forward_hook(lambda _module, _inputs, output: self.seen.add(output.dtype))


@pytest.mark.parametrize("precision, expected", [("bf16", torch.bfloat16), ("fp32", torch.float32)])
def test_the_training_step_runs_its_convolutions_in_the_chosen_precision(precision, expected, digits16, tmp_path):
    config = config_for("dcgan", steps=2, image_size=16, width=8, batch_size=8, device="cpu", precision=precision,
                        log_every=1, sample_every=1000, checkpoint_every=1000, seed=0)
    watch = ConvolutionDtypes()
    result = train(config, tmp_path, [watch], dataset=digits16)
    assert result.status == "finished", result.message
    # The preview grid is drawn outside the step, in float32; only the step autocasts.
    assert expected in watch.seen
    if expected is torch.bfloat16:
        assert watch.seen == {torch.bfloat16, torch.float32}


NOISE_VARIANTS = [name for name, spec in variants().items() if spec.trains_on_images and not spec.image_to_image]


@pytest.mark.parametrize("variant", NOISE_VARIANTS)
def test_every_variant_trains_in_bf16_with_float32_losses_and_weights(variant, digits16, tmp_path):
    config = config_for(variant, steps=3, image_size=16, width=8, batch_size=8, device="cpu", precision="bf16",
                        log_every=1, sample_every=1000, checkpoint_every=1000, seed=0)
    result = train(config, tmp_path, dataset=digits16)
    assert result.status == "finished", result.message
    for row in RunFiles(tmp_path).read_metrics():
        assert all(math.isfinite(value) for value in row.values()), row
    generator = load_generator(tmp_path / "generator.safetensors")
    assert {p.dtype for p in generator.generator.parameters()} == {torch.float32}


def test_a_run_saved_before_precision_existed_resumes_in_float32(tmp_path):
    """Its config.json has no precision field; it ran fp32, so it must continue in fp32 whatever today's default."""
    from gan_core.cli import main

    run = tmp_path / "old-run"
    arguments = ["train", "--variant", "dcgan", "--dataset", "digits", "--steps", "2", "--image-size", "16", "--width", "8",
                 "--batch-size", "8", "--device", "cpu", "--precision", "fp32", "--quiet", "--out", str(run)]
    assert main(arguments) == 0
    files = RunFiles(run)
    saved = files.read_json(files.config)
    del saved["precision"]
    files.write_json(files.config, saved)
    assert main(["train", "--resume", str(run), "--steps", "3", "--quiet"]) == 0
    assert files.read_json(files.config)["precision"] == "fp32"
    assert load_generator(run / "generator.safetensors").config.precision == "fp32"


@pytest.mark.parametrize(("threads", "shown"), [(1, "CPU (1 thread)"), (2, "CPU (2 threads)")])
def test_the_cpu_is_named_with_its_thread_count_in_good_english(threads, shown, monkeypatch):
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads)
    assert devices.describe_device(torch.device("cpu")) == shown
