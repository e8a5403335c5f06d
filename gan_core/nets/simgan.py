"""SimGAN's two networks (Shrivastava et al. 2017, appendix): a fully convolutional ResNet refiner and a
discriminator whose output is a map of local patch scores.

The refiner keeps the picture's size: a 3×3 convolution to `width` feature maps, ResNet blocks of two 3×3
convolutions each, then a 1×1 convolution back to the image's channels. Without pooling or strides every output
pixel depends only on a small neighbourhood of the input, which is what lets the self-regularisation term keep
the synthetic image's content (and so its label). The paper's last layer is linear; ours ends in tanh so
refined images stay in the [-1, 1] range every other network here reads.

The discriminator follows the paper's layer list (3×3 stride-2 convolutions with 96 and 64 maps, a 3×3 max-pool,
a 3×3 and a 1×1 convolution with 32 maps, and a final 1×1), scaled by `width / 32`; its receptive field is a
patch of the picture, so its output is one score per patch (7×7 of them on 28-px digits). The paper ends with
two maps and a softmax; one logit per patch with a sigmoid is the same two-class model.
"""

from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """x + conv(relu(conv(x))), followed by ReLU, as in the paper's refiner."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(width, width, 3, padding=1))
        self.activation = nn.ReLU(inplace=True)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.activation(features + self.body(features))


class Refiner(nn.Module):
    """Synthetic image (N, C, H, W) in [-1, 1] → refined image of the same shape.

    Args:
        channels: image channels in and out.
        width: feature maps of every hidden layer (the paper's 64).
        blocks: ResNet blocks (the paper's 4).
    """

    def __init__(self, channels: int = 1, width: int = 64, blocks: int = 4) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True),
            *[ResidualBlock(width) for _ in range(blocks)],
            nn.Conv2d(width, channels, 1), nn.Tanh())

    def forward(self, synthetic: torch.Tensor) -> torch.Tensor:
        return self.model(synthetic)


class LocalDiscriminator(nn.Module):
    """Image (N, C, H, W) → (N, 1, H/4, W/4) logits, each saying whether its patch looks real.

    Args:
        channels: image channels.
        width: 32 gives the paper's 96-64-32-32 feature maps; other widths scale them.
    """

    def __init__(self, channels: int = 1, width: int = 32) -> None:
        super().__init__()
        wide, middle, narrow = 3 * width, 2 * width, width
        self.model = nn.Sequential(
            nn.Conv2d(channels, wide, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(wide, middle, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=1, padding=1),
            nn.Conv2d(middle, narrow, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(narrow, narrow, 1), nn.ReLU(inplace=True),
            nn.Conv2d(narrow, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images)
