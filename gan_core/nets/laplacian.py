"""LAPGAN's networks (Denton, Chintala, Szlam & Fergus 2015), class-conditional (the paper's CC-LAPGAN).

Level 0 is a small conditional DCGAN at the coarsest scale: noise and the one-hot label in, a coarse image out;
its discriminator sees the coarse image and the label (the paper's level-0 models are fully connected; see
`CoarseDiscriminator` for why these are convolutional).
Each finer level k is a convolutional conditional GAN at side sₖ. Its generator sees the upsampled coarser image
l = u(I), a noise plane and a label plane, and returns the residual h = G(z, l, y) with no output squashing (the
paper's last layer is linear: residuals are signed), projected so that the refined image u(I) + h halves back to I
exactly, as every real one does (`gan_core.pyramid.consistent_residual`; without it the 16×16 level's
discriminator won by that check alone and its generator drew blotches). Its discriminator sees (residual, l, label plane) and
says whether the residual is real. The label reaches a convolutional network the way the paper's
reference code (facebookarchive/eyescream) feeds it: the one-hot vector through a linear layer reshaped to
one sₖ × sₖ plane, stacked with the image planes.

`LaplacianGenerator` holds every level and samples by chaining them from one flat latent vector (level 0's
noise, then one noise plane per finer level, then the one-hot label; see `gan_core.latent`), so the CLI,
pages and metrics sample it like any other conditional generator. `stages` returns every step of
the chain for pages that show the pyramid.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gan_core.pyramid import consistent_residual, level_sizes, upsample


class CoarseGenerator(nn.Module):
    """(noise, one-hot label) → coarse image in [-1, 1]: a fully connected layer to a (4·width)-channel grid at half
    the side, one transposed convolution to the full side, batch norm and ReLU between (DCGAN's blocks)."""

    def __init__(self, noise_dim: int, num_classes: int, channels: int, size: int, width: int) -> None:
        super().__init__()
        self.start = (4 * width, (size + 1) // 2, (size + 1) // 2)
        kernel = 4 if size % 2 == 0 else 3  # doubles an even side (4 → 8); 4 → 7 for an odd one
        self.project = nn.Sequential(nn.Linear(noise_dim + num_classes, 4 * width * self.start[1] ** 2, bias=False),
                                     nn.BatchNorm1d(4 * width * self.start[1] ** 2), nn.ReLU(True))
        self.model = nn.Sequential(
            nn.ConvTranspose2d(4 * width, 2 * width, kernel, 2, 1, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(True),
            nn.Conv2d(2 * width, channels, 3, padding=1), nn.Tanh(),
        )

    def forward(self, noise: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
        return self.model(self.project(torch.cat([noise, one_hot], dim=1)).view(-1, *self.start))


class CoarseDiscriminator(nn.Module):
    """(coarse image, one-hot label) → one logit: two convolutions over the image with the label as constant planes
    (as CGAN's discriminator takes it), then a linear layer.

    The paper's level-0 discriminator is fully connected; here one stayed at chance (D(x) ≈ 0.51 after 450 steps,
    blobs for digits) while this one learnt labelled 8×8 digits in 1,200 steps of level 0 alone.
    """

    def __init__(self, num_classes: int, channels: int, size: int, width: int) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.Conv2d(channels + num_classes, width, 3, 1, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2, True),
            nn.Flatten(), nn.Linear(2 * width * (size // 2) ** 2, 1),
        )

    def forward(self, coarse: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
        planes = one_hot[:, :, None, None].expand(-1, -1, *coarse.shape[-2:])
        return self.model(torch.cat([coarse, planes], dim=1)).float()


class LabelPlane(nn.Module):
    """The one-hot label as one learned size × size plane (a linear layer, reshaped)."""

    def __init__(self, num_classes: int, size: int) -> None:
        super().__init__()
        self.size = size
        self.project = nn.Linear(num_classes, size * size)

    def forward(self, one_hot: torch.Tensor) -> torch.Tensor:
        return self.project(one_hot).view(-1, 1, self.size, self.size)


class ResidualGenerator(nn.Module):
    """(noise plane, upsampled coarser image, one-hot label) → residual at the same side.

    Convolutions at full resolution with no striding, as the paper's finer generators: the residual is
    local detail, placed where the coarse image has its strokes. `depth` 3×3 layers sit between the first 5×5
    one and the output; each widens what one residual pixel can see by a pixel on every side.
    """

    def __init__(self, num_classes: int, channels: int, size: int, width: int, depth: int = 1) -> None:
        super().__init__()
        self.size = size
        self.label_plane = LabelPlane(num_classes, size)
        middle = [layer for _ in range(depth) for layer in (
            nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(True))]
        self.model = nn.Sequential(
            nn.Conv2d(channels + 2, width, 5, padding=2, bias=False), nn.BatchNorm2d(width), nn.ReLU(True),
            *middle,
            nn.Conv2d(width, channels, 3, padding=1),
        )

    def forward(self, noise_plane: torch.Tensor, coarse_up: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
        planes = torch.cat([coarse_up, noise_plane.view(-1, 1, self.size, self.size), self.label_plane(one_hot)], dim=1)
        return self.model(planes)


class ResidualDiscriminator(nn.Module):
    """(residual, upsampled coarser image, one-hot label) → one logit: is this residual real, given l and y?"""

    def __init__(self, num_classes: int, channels: int, size: int, width: int) -> None:
        super().__init__()
        self.label_plane = LabelPlane(num_classes, size)
        reduced = size // 4  # two stride-2 convolutions with kernel 4 and padding 1 floor-halve the side twice
        self.model = nn.Sequential(
            nn.Conv2d(2 * channels + 1, width, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2, True),
            nn.Flatten(), nn.Dropout(0.3), nn.Linear(2 * width * reduced * reduced, 1),
        )

    def forward(self, residual: torch.Tensor, coarse_up: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
        return self.model(torch.cat([residual, coarse_up, self.label_plane(one_hot)], dim=1)).float()


@dataclass(frozen=True)
class PyramidStages:
    """One chained sample, every step of it, coarse to fine: `images[0]` is the coarse image, `residuals[k]` the
    residual generated at level k + 1 and `images[k + 1]` that level's refined image (the last is the sample)."""

    images: tuple[torch.Tensor, ...]
    residuals: tuple[torch.Tensor, ...]


class LaplacianGenerator(nn.Module):
    """Every level's generator, and sampling by chaining them: flat latent → final image in [-1, 1].

    The latent is [level-0 noise | one noise plane per finer level, flattened | one-hot label]. When
    chaining, each refined level is clamped to [-1, 1], the range of the real coarser images the next level
    was trained on.
    """

    def __init__(self, noise_dim: int, num_classes: int, channels: int, image_size: int, levels: int,
                 width: int, refiner_depth: int = 1) -> None:
        super().__init__()
        self.sizes = level_sizes(image_size, levels)
        self.num_classes = num_classes
        self.noise_dims = [noise_dim] + [size * size for size in self.sizes[1:]]
        self.coarse = CoarseGenerator(noise_dim, num_classes, channels, self.sizes[0], width)
        self.refiners = nn.ModuleList(ResidualGenerator(num_classes, channels, size, width, refiner_depth)
                                      for size in self.sizes[1:])

    @property
    def noise_total(self) -> int:
        return sum(self.noise_dims)

    def split(self, latent: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Each level's noise, and the one-hot label (or a blend of two, on an interpolation)."""
        noises = list(torch.split(latent[:, :self.noise_total], self.noise_dims, dim=1))
        return noises, latent[:, self.noise_total:]

    def level(self, k: int, noise: torch.Tensor, coarser: torch.Tensor | None, one_hot: torch.Tensor) -> torch.Tensor:
        """Level k's output: the coarse image (k = 0), else the residual that refines the coarser image (at its
        own, smaller side), consistent with it."""
        if k == 0:
            return self.coarse(noise, one_hot)
        return consistent_residual(self.refiners[k - 1](noise, upsample(coarser), one_hot), coarser)

    def refine(self, k: int, noise: torch.Tensor, coarser: torch.Tensor, one_hot: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Level k's residual for `coarser` and the refined image it makes, clamped to [-1, 1] (the range of the real
        coarser images the next level was trained on)."""
        residual = self.level(k, noise, coarser, one_hot)
        return residual, (upsample(coarser) + residual).clamp(-1, 1)

    def stages(self, latent: torch.Tensor) -> PyramidStages:
        noises, one_hot = self.split(latent)
        images = [self.coarse(noises[0], one_hot)]
        residuals = []
        for k, noise in enumerate(noises[1:], start=1):
            residual, image = self.refine(k, noise, images[-1], one_hot)
            residuals.append(residual)
            images.append(image)
        return PyramidStages(tuple(images), tuple(residuals))

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.stages(latent).images[-1]


class LaplacianDiscriminator(nn.Module):
    """Every level's discriminator: index 0 judges coarse images, index k residuals at level k."""

    def __init__(self, num_classes: int, channels: int, image_size: int, levels: int, width: int) -> None:
        super().__init__()
        sizes = level_sizes(image_size, levels)
        self.levels = nn.ModuleList(
            [CoarseDiscriminator(num_classes, channels, sizes[0], width)]
            + [ResidualDiscriminator(num_classes, channels, size, width) for size in sizes[1:]])

    def forward(self, k: int, sample: torch.Tensor, coarse_up: torch.Tensor | None, one_hot: torch.Tensor) -> torch.Tensor:
        """Level k's logits for `sample` (a coarse image at k = 0, else a residual beside `coarse_up`)."""
        if k == 0:
            return self.levels[0](sample, one_hot)
        return self.levels[k](sample, coarse_up, one_hot)
