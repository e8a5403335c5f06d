"""Sampling from a loaded generator: seeds, labels and InfoGAN codes in, images out.

Pages and the CLI call these; they validate what a user picked against the checkpoint's latent
layout so a wrong label or code gives a message rather than an index error.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from gan_core.checkpoints import LoadedGenerator
from gan_core.errors import CheckpointError, ConfigError
from gan_core.latent import LatentLayout
from gan_core.registry import get_variant
from gan_core.truncation import check_threshold, supports_truncation


def allows_truncation(model: LoadedGenerator) -> bool:
    """Whether this generator's model class samples with truncated noise (a capability, not a variant name)."""
    return model.layout is not None and supports_truncation(get_variant(model.variant).model_class)


def require_conditional(model: LoadedGenerator) -> LoadedGenerator:
    """`model`, if it takes a class label; otherwise one message saying what it is and what is needed."""
    if model.layout is None or not model.layout.num_labels:
        raise CheckpointError(f"{model.path.name} is a {model.variant} checkpoint, which is not class-conditional "
                              "(it does not take a class label); a class-conditional model is needed here "
                              "(cgan, acgan or biggan)")
    return model


def check_truncation(model: LoadedGenerator, truncation: float | None) -> None:
    if truncation is None:
        return
    if not allows_truncation(model):
        raise ConfigError(f"{model.variant} models are not sampled with truncated noise; leave truncation out")
    check_threshold(truncation)


def _check_choices(
    layout: LatentLayout, labels: Sequence[int] | int | None, category: int | None, continuous: Sequence[float] | None
) -> None:
    if labels is not None:
        if not layout.num_labels:
            raise ConfigError("this model is not class-conditional; leave the label out")
        for label in [labels] if isinstance(labels, int) else labels:
            if not 0 <= int(label) < layout.num_labels:
                raise ConfigError(f"label must be an integer in [0, {layout.num_labels - 1}]; got {label}")
    if category is not None:
        if not layout.categorical:
            raise ConfigError("this model has no categorical code; leave the category out")
        if not 0 <= int(category) < layout.categorical:
            raise ConfigError(f"category must be an integer in [0, {layout.categorical - 1}]; got {category}")
    if continuous is not None:
        if len(continuous) != layout.continuous:
            raise ConfigError(f"this model has {layout.continuous} continuous codes; got {len(continuous)} values")


@torch.inference_mode()
def generate(
    model: LoadedGenerator,
    n: int,
    seed: int = 0,
    labels: Sequence[int] | int | None = None,
    category: int | None = None,
    continuous: Sequence[float] | None = None,
    truncation: float | None = None,
) -> torch.Tensor:
    """`n` images in [-1, 1] as (n, C, H, W) on the CPU. Same seed and choices, same images.

    `truncation` (models that allow it) redraws noise values beyond that threshold (`gan_core.truncation`)."""
    if model.layout is None:
        raise ConfigError(f"{model.variant} translates images; use translation instead of sampling")
    if not 1 <= n <= 4096:
        raise ConfigError(f"n must be an integer in [1, 4096]; got {n}")
    _check_choices(model.layout, labels, category, continuous)
    check_truncation(model, truncation)
    device = next(model.generator.parameters()).device
    latent = model.layout.build(n, seed, device, labels=labels, category=category, continuous=continuous,
                                truncation=truncation)
    return model.generator(latent).float().cpu()


@torch.inference_mode()
def generate_from_latent(model: LoadedGenerator, latent: torch.Tensor) -> torch.Tensor:
    device = next(model.generator.parameters()).device
    return model.generator(latent.to(device)).float().cpu()


def interpolate_noise(layout: LatentLayout, seed_a: int, seed_b: int, steps: int, label_a: int | None = None,
                      label_b: int | None = None, truncation: float | None = None) -> torch.Tensor:
    """Latents walking from seed A to seed B (and label A to label B, blending one-hots) in `steps`; with
    `truncation`, both ends' noise is truncated (the walk between two truncated ends stays inside the threshold)."""
    start = layout.build(1, seed_a, torch.device("cpu"), labels=label_a, truncation=truncation)
    end = layout.build(1, seed_b, torch.device("cpu"), labels=label_b if label_b is not None else label_a,
                       truncation=truncation)
    weights = torch.linspace(0, 1, steps)[:, None]
    return start * (1 - weights) + end * weights


def traversal_latents(layout: LatentLayout, seed: int, code_index: int, values: Sequence[float],
                      base_continuous: Sequence[float] | None = None) -> torch.Tensor:
    """InfoGAN traversal: rows are category values, columns sweep continuous code `code_index`."""
    if not 0 <= code_index < layout.continuous:
        raise ConfigError(f"code_index must be in [0, {layout.continuous - 1}]; got {code_index}")
    base = list(base_continuous) if base_continuous is not None else [0.0] * layout.continuous
    rows = []
    for category in range(layout.categorical):
        for value in values:
            codes = list(base)
            codes[code_index] = float(value)
            rows.append(layout.build(1, seed, torch.device("cpu"), category=category, continuous=codes))
    return torch.cat(rows)
