"""The Laplacian pyramid LAPGAN is built on (Burt & Adelson 1983; Denton et al. 2015, section 3).

An image I₀ of side s is blurred and halved into I₁ = d(I₀), I₂ = d(I₁), ... down to the coarsest image
I_K. Each finer level keeps only what the halving lost: the residual hₖ = Iₖ − u(Iₖ₊₁), where u doubles
the side again. The pyramid is (I_K, h_{K−1}, ..., h₀), coarse to fine, and it gives back the image
exactly: Iₖ = u(Iₖ₊₁) + hₖ, one level at a time from the coarsest.

d is a 2×2 box average and u a bilinear doubling. The paper's d and u are a Gaussian blur with
decimation and its transpose, but nothing here needs that filter: any d and u give an exact
reconstruction, because each residual is defined as what u(d(·)) misses. The box average keeps an 8×8
level a plain mean of 4×4 blocks of the 32×32 digit, which is what a person expects a coarse digit to be.

Levels are listed coarse to fine everywhere in GAN Studio (index 0 is the coarsest, as LAPGAN's level 0
generator is the one that starts from noise alone).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gan_core.errors import ConfigError


def downsample(images: torch.Tensor) -> torch.Tensor:
    """d: half the side, each pixel the mean of a 2×2 block."""
    return F.avg_pool2d(images, 2)


def upsample(images: torch.Tensor) -> torch.Tensor:
    """u: twice the side, bilinear."""
    return F.interpolate(images, scale_factor=2, mode="bilinear", align_corners=False)


def level_sizes(image_size: int, levels: int) -> list[int]:
    """Sides of the pyramid's images, coarse to fine: 32 with 3 levels gives [8, 16, 32]."""
    if levels < 1:
        raise ConfigError(f"a pyramid needs at least one level; got {levels}", field="levels")
    coarsest = image_size // 2 ** (levels - 1)
    if coarsest * 2 ** (levels - 1) != image_size or coarsest < 4:
        raise ConfigError(f"image size {image_size} cannot be halved {levels - 1} times down to a side of at least 4 "
                          f"(choose an image size divisible by {2 ** (levels - 1)}, or fewer levels)", field="image_size")
    return [coarsest * 2**k for k in range(levels)]


@dataclass(frozen=True)
class LaplacianPyramid:
    """The coarsest image and the residual of each finer level, coarse to fine."""

    coarse: torch.Tensor
    residuals: tuple[torch.Tensor, ...]

    @property
    def levels(self) -> int:
        return 1 + len(self.residuals)

    def images(self) -> list[torch.Tensor]:
        """The image at every level, coarse to fine, rebuilt from the coarse image and the residuals."""
        return reconstruct(self.coarse, self.residuals)


def build_pyramid(images: torch.Tensor, levels: int) -> LaplacianPyramid:
    """The Laplacian pyramid of a batch (N, C, H, W) with `levels` levels (1 = the image alone)."""
    level_sizes(images.shape[-1], levels)
    gaussian = [images]
    for _ in range(levels - 1):
        gaussian.append(downsample(gaussian[-1]))
    residuals = [fine - upsample(coarse) for fine, coarse in zip(gaussian[:-1], gaussian[1:])]
    return LaplacianPyramid(coarse=gaussian[-1], residuals=tuple(reversed(residuals)))


def reconstruct(coarse: torch.Tensor, residuals: tuple[torch.Tensor, ...] | list[torch.Tensor]) -> list[torch.Tensor]:
    """Iₖ = u(Iₖ₊₁) + hₖ from the coarsest image up: every level's image, coarse to fine."""
    images = [coarse]
    for residual in residuals:
        images.append(upsample(images[-1]) + residual)
    return images


def to_size(images: torch.Tensor, size: int) -> torch.Tensor:
    """`images` brought to side `size` by repeated u (how a coarse level is shown or measured at full size)."""
    while images.shape[-1] < size:
        images = upsample(images)
    return images
