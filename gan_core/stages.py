"""Showing how a coarse-to-fine generator built one sample: the coarse image, each residual, each refined level.

A model shows its stages when its generator has a `stages(latent)` method returning `PyramidStages`; its model
class says so with `pyramid_stages = True` (a capability, read by pages without knowing the variant).
Residuals are signed, so they are drawn centred at grey (0 is mid-grey, +1 white, −1 black); every picture
is brought to the final side so the steps line up.
"""

from __future__ import annotations

import torch

from gan_core.checkpoints import LoadedGenerator
from gan_core.errors import ConfigError
from gan_core.grids import png_bytes, to_pil, with_labels
from gan_core.nets.laplacian import PyramidStages
from gan_core.pyramid import to_size
from gan_core.registry import get_variant


def supports_stages(model_class: type) -> bool:
    return bool(getattr(model_class, "pyramid_stages", False))


def shows_pyramid(model: LoadedGenerator) -> bool:
    """Whether this loaded generator can show the pyramid of a sample (from its model class's capability)."""
    return model.layout is not None and supports_stages(get_variant(model.variant).model_class)


def stage_columns(levels: int) -> tuple[str, ...]:
    """What each picture of `stage_pictures` shows, for `levels` levels (coarse, then residual and level per step)."""
    names = ["coarse (level 0)"]
    for k in range(1, levels):
        names += [f"residual {k}", f"level {k}" + (" (final)" if k == levels - 1 else "")]
    return tuple(names)


def stage_pictures(stages: PyramidStages) -> torch.Tensor:
    """(N, 2L − 1, C, H, W): per sample, the coarse image, then each residual and refined level, all at full size
    and in [-1, 1] (residuals as they are, clamped: 0 is grey)."""
    size = stages.images[-1].shape[-1]
    pictures = [to_size(stages.images[0], size)]
    for residual, image in zip(stages.residuals, stages.images[1:]):
        pictures += [to_size(residual.clamp(-1, 1), size), to_size(image, size)]
    return torch.stack(pictures, dim=1)


@torch.inference_mode()
def sample_stages(model: LoadedGenerator, seed: int, label: int | None = None, n: int = 1) -> PyramidStages:
    """The stages of `n` samples from a seed (and label), the same samples `inference.generate` draws."""
    if not shows_pyramid(model):
        raise ConfigError(f"{model.variant} models do not build their samples as a pyramid; choose a LAPGAN model")
    if label is not None and not 0 <= int(label) < model.layout.num_labels:
        raise ConfigError(f"label must be an integer in [0, {model.layout.num_labels - 1}]; got {label}")
    device = next(model.generator.parameters()).device
    latent = model.layout.build(n, seed, device, labels=label)
    stages = model.generator.stages(latent)
    return PyramidStages(tuple(t.float().cpu() for t in stages.images), tuple(t.float().cpu() for t in stages.residuals))


def pyramid_png(model: LoadedGenerator, seed: int, label: int | None = None, scale: int = 4) -> bytes:
    """PNG bytes of one sample's pyramid in a row, each picture named above it."""
    stages = sample_stages(model, seed, label)
    pictures = stage_pictures(stages)[0]
    grid = to_pil(pictures, columns=pictures.shape[0], scale=scale)
    return png_bytes(with_labels(grid, [], list(stage_columns(len(stages.images)))))
