"""The Style page's pictures: which models it offers, and its mixing grid and truncation strip as PNG bytes.

The maths is in `gan_core.styles`; this module only lays the results out as pictures.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from gan_core.app.models import ModelChoice, available_models
from gan_core.checkpoints import LoadedGenerator
from gan_core.grids import png_bytes, to_pil
from gan_core.styles import Noise, StyleLayers, mean_w_image, sample, style_mixing_grid

STYLE_PAGE = "/style"


def style_models() -> list[ModelChoice]:
    """Generators whose variant names the Style page as where it is shown best (style-based ones)."""
    return available_models(lambda spec: spec.page == STYLE_PAGE)


def mixing_grid_png(model: LoadedGenerator, seeds_a: Sequence[int], seeds_b: Sequence[int], layers: StyleLayers,
                    psi: float, noise: Noise, scale: int = 3) -> bytes:
    """B's sources across the top, A's down the left, the mixtures in between."""
    images, columns = style_mixing_grid(model, seeds_a, seeds_b, layers, psi, noise).as_grid()
    return png_bytes(to_pil(images, columns=columns, scale=scale))


def truncation_png(model: LoadedGenerator, seeds: Sequence[int], psis: Sequence[float], noise: Noise,
                   scale: int = 3) -> bytes:
    """One row per ψ (first row: ψ = psis[0]), one column per seed, and the mean w's image in the last column."""
    rows = []
    for psi in psis:
        rows += [sample(model, seeds, psi, noise), mean_w_image(model, noise)]
    return png_bytes(to_pil(torch.cat(rows), columns=len(seeds) + 1, scale=scale))
