"""Differentiable augmentation of what a discriminator sees (DiffAugment, Zhao et al. 2020).

Why: with a few thousand training images a discriminator that trains for hundreds of epochs learns
the training set by heart, its verdicts stop carrying information that generalises, and the
generator's quality levels off or falls back. Showing D every image, real and generated alike,
through the same random transformation makes memorising much harder, and because the transformation
is differentiable G is still trained through it. It never leaks into the samples: D compares T(x)
with T(G(z)), and for these transformations that is matched only when G(z) matches x.

The two transformations the paper recommends for a grayscale or low-colour set, each drawn afresh
for every image of every call:

- translation: shift by up to 1/8 of the side in each direction, filling with -1 (the black
  background of images in [-1, 1]), so a shifted digit is still a digit on black;
- cutout: set a square of half the side, at a random centre, to 0 (mid-gray), as the paper does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

POLICIES = ("none", "translation", "cutout", "translation,cutout")
"""The values of the `augment` setting, each a comma-separated list of transformations, applied in order."""

TRANSLATION_RATIO = 1 / 8
CUTOUT_RATIO = 1 / 2
TRANSLATION_FILL = -1.0


def translate(images: torch.Tensor, ratio: float = TRANSLATION_RATIO) -> torch.Tensor:
    """Each image shifted by its own whole number of pixels in x and y, up to `ratio` of the side."""
    batch, _, height, width = images.shape
    shift_y, shift_x = max(1, round(height * ratio)), max(1, round(width * ratio))
    dy = torch.randint(-shift_y, shift_y + 1, (batch, 1), device=images.device)
    dx = torch.randint(-shift_x, shift_x + 1, (batch, 1), device=images.device)
    padded = F.pad(images, (shift_x, shift_x, shift_y, shift_y), value=TRANSLATION_FILL)
    rows = torch.arange(height, device=images.device)[None, :] + shift_y - dy  # (batch, height)
    cols = torch.arange(width, device=images.device)[None, :] + shift_x - dx  # (batch, width)
    index = torch.arange(batch, device=images.device)[:, None, None]
    picked = padded.permute(0, 2, 3, 1)[index, rows[:, :, None], cols[:, None, :]]  # (batch, height, width, channels)
    return picked.permute(0, 3, 1, 2)


def cutout(images: torch.Tensor, ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    """Each image with a square of `ratio` of its side, centred at a random pixel and clipped at the border, set to 0."""
    batch, _, height, width = images.shape
    size_y, size_x = max(1, round(height * ratio)), max(1, round(width * ratio))
    top = torch.randint(0, height, (batch, 1, 1), device=images.device) - size_y // 2
    left = torch.randint(0, width, (batch, 1, 1), device=images.device) - size_x // 2
    ys = torch.arange(height, device=images.device)[None, :, None]
    xs = torch.arange(width, device=images.device)[None, None, :]
    inside = (ys >= top) & (ys < top + size_y) & (xs >= left) & (xs < left + size_x)
    return images * (~inside)[:, None].to(images.dtype)


TRANSFORMS = {"translation": translate, "cutout": cutout}


def augment(images: torch.Tensor, policy: str) -> torch.Tensor:
    """`images` through every transformation `policy` names (one of POLICIES); "none" returns them unchanged."""
    if policy == "none":
        return images
    for name in policy.split(","):
        images = TRANSFORMS[name](images)
    return images
