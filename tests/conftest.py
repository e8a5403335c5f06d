"""Shared fixtures and helpers: a small slice of the embedded digits, untrained translator checkpoints."""

from pathlib import Path

import pytest
import torch

from gan_core.checkpoints import DatasetInfo, save_generator
from gan_core.data.digits import load_digits
from gan_core.registry import config_for, get_variant


@pytest.fixture(scope="session")
def digits16():
    """The embedded digits at 16×16: small enough that a few steps of every variant take a second."""
    return load_digits(16)


@pytest.fixture(autouse=True)
def _fixed_threads():
    torch.set_num_threads(2)
    yield


def save_untrained_translator(folder: Path, variant: str, dataset: str, size: int = 32) -> Path:
    """A 32×32 (or `size`), width-8 pix2pix or CycleGAN checkpoint as if trained on `dataset` (0 steps): fast to
    load and run. A pix2pix U-Net has dropout from 64 px (it is on its levels below the fifth)."""
    config = config_for(variant, image_size=size, width=8, dataset=dataset, extra={"n_blocks": 1})
    torch.manual_seed(0)
    model = get_variant(variant).model_class(config, (3, size, size), 0)
    path = folder / f"{variant}-{dataset}.safetensors"
    save_generator(path, model.generator, config, None, DatasetInfo(dataset, (3, size, size), []), 1)
    return path
