"""DCGAN-style convolutional generator and discriminator (Radford et al. 2016) for square images.

Strided (transposed) convolutions instead of pooling, batch norm everywhere except the generator's
output and the discriminator's input, ReLU in G and LeakyReLU(0.2) in D, Tanh output. The
discriminator has named heads so ACGAN's classifier and InfoGAN's Q network share its body.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as apply_spectral_norm

from gan_core.errors import ConfigError


def _levels(image_size: int) -> int:
    """Number of ×2 upsamplings from the 4×4 seed to `image_size` (which must be 4·2^k)."""
    levels = int(round(math.log2(image_size / 4)))
    if image_size != 4 * 2**levels or levels < 1:
        raise ConfigError(f"Image size must be a power of two from 8 (8, 16, 32, 64, ...) for convolutional networks; "
                          f"got {image_size}", field="image_size")
    return levels


class ConvGenerator(nn.Module):
    """latent (N, latent_dim) → image (N, channels, size, size) in [-1, 1]."""

    def __init__(self, latent_dim: int, channels: int, image_size: int, width: int = 32) -> None:
        super().__init__()
        levels = _levels(image_size)
        top = width * 2 ** (levels - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, top, 4, 1, 0, bias=False),
            nn.BatchNorm2d(top),
            nn.ReLU(True),
        ]
        channels_in = top
        for _ in range(levels - 1):
            layers += [
                nn.ConvTranspose2d(channels_in, channels_in // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(channels_in // 2),
                nn.ReLU(True),
            ]
            channels_in //= 2
        layers += [nn.ConvTranspose2d(channels_in, channels, 4, 2, 1), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        self.latent_dim = latent_dim

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.model(latent.view(latent.shape[0], self.latent_dim, 1, 1))


class ConvDiscriminator(nn.Module):
    """image (+ optional per-pixel condition planes) → dict of head outputs.

    `heads` maps a head name to its output width, e.g. {"adv": 1, "class": 10}. The body ends in a
    flat feature vector; each head is one linear layer on it (InfoGAN's Q adds a hidden layer).
    `norm` is "batch" (DCGAN), or "none" / "layer" for critics that must not mix samples (WGAN-GP).
    """

    def __init__(
        self,
        channels: int,
        image_size: int,
        width: int = 32,
        heads: dict[str, int] | None = None,
        norm: str = "batch",
        spectral_norm: bool = False,
        condition_channels: int = 0,
        hidden_heads: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        levels = _levels(image_size)
        wrap = apply_spectral_norm if spectral_norm else (lambda module: module)
        layers: list[nn.Module] = [wrap(nn.Conv2d(channels + condition_channels, width, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        channels_in, size = width, image_size // 2
        for _ in range(levels - 1):
            layers.append(wrap(nn.Conv2d(channels_in, channels_in * 2, 4, 2, 1, bias=norm == "none")))
            if norm == "batch":
                layers.append(nn.BatchNorm2d(channels_in * 2))
            elif norm == "layer":
                layers.append(nn.GroupNorm(1, channels_in * 2))
            layers.append(nn.LeakyReLU(0.2, True))
            channels_in, size = channels_in * 2, size // 2
        layers.append(nn.Flatten())
        self.body = nn.Sequential(*layers)
        self.feature_dim = channels_in * size * size
        self.heads = nn.ModuleDict()
        for name, outputs in (heads or {"adv": 1}).items():
            if name in hidden_heads:
                self.heads[name] = nn.Sequential(
                    nn.Linear(self.feature_dim, 128), nn.LeakyReLU(0.2, True), nn.Linear(128, outputs)
                )
            else:
                self.heads[name] = wrap(nn.Linear(self.feature_dim, outputs))

    def forward(self, images: torch.Tensor, condition: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if condition is not None:
            images = torch.cat([images, condition], dim=1)
        features = self.body(images)
        # float32 heads whatever precision the body ran in: the losses on them (and ACGAN's and InfoGAN's
        # cross-entropies) are computed in float32.
        return {name: head(features).float() for name, head in self.heads.items()}
