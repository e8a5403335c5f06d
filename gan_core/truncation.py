"""BigGAN's truncation trick: noise values beyond a threshold are drawn again until they fall inside it.

Sampling from the truncated normal trades variety for fidelity: the smaller the threshold, the closer every
sample is to the generator's most typical output. Values already inside the threshold are kept, so for a
given seed moving the threshold only changes the outlying values, and a threshold above every drawn
value changes nothing. Which generators allow it is a capability of their model class
(`noise_truncation`), never a variant's name.
"""

from __future__ import annotations

import torch

from gan_core.errors import ConfigError

THRESHOLD_RANGE = (0.05, 4.0)
"""Thresholds we accept: below 0.05 almost every value is redrawn (about 25 times each); above 4 nothing changes."""
MAX_REDRAWS = 10_000


def check_threshold(threshold: float) -> float:
    low, high = THRESHOLD_RANGE
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise ConfigError(f"truncation must be a number in [{low:g}, {high:g}]; got {threshold!r}") from None
    if not low <= value <= high:  # also refuses NaN
        raise ConfigError(f"truncation must be a number in [{low:g}, {high:g}] (smaller: fewer, more typical "
                          f"samples; leave it out for none); got {threshold!r}")
    return value


def truncate_noise(noise: torch.Tensor, threshold: float, rng: torch.Generator | None = None) -> torch.Tensor:
    """A copy of standard-normal `noise` with every value whose magnitude exceeds `threshold` redrawn from the
    standard normal (from `rng`) until it does not: samples of the normal truncated to [-threshold, threshold]."""
    threshold = check_threshold(threshold)
    noise = noise.clone()
    outside = noise.abs() > threshold
    for _ in range(MAX_REDRAWS):
        count = int(outside.sum())
        if count == 0:
            return noise
        redrawn = torch.randn(count, generator=rng, dtype=noise.dtype, device=rng.device if rng is not None else noise.device)
        noise[outside] = redrawn.to(noise.device)
        outside = noise.abs() > threshold
    raise ConfigError(f"truncation {threshold:g} left values outside after {MAX_REDRAWS} redraws; use a larger one")


def supports_truncation(model_class: type) -> bool:
    """Whether generators of this model class are meant to be sampled with truncated noise."""
    return bool(getattr(model_class, "noise_truncation", False))
