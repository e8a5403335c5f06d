"""Fully connected generator and discriminator, as in the original GAN paper (Goodfellow et al. 2014)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as apply_spectral_norm


def mlp(sizes: list[int], activation: type[nn.Module], spectral_norm: bool = False) -> nn.Sequential:
    """Linear layers of the given sizes with `activation` between them (none after the last)."""
    wrap = apply_spectral_norm if spectral_norm else (lambda module: module)
    layers: list[nn.Module] = []
    for i, (size_in, size_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(wrap(nn.Linear(size_in, size_out)))
        if i < len(sizes) - 2:
            layers.append(activation(0.2) if activation is nn.LeakyReLU else activation())
    return nn.Sequential(*layers)


class MlpGenerator(nn.Module):
    """latent → image through hidden layers (linear, batch norm, LeakyReLU) and a Tanh output.

    The 2014 paper's generator had no normalisation; without it, on MNIST at this project's budget (2,000 steps),
    the discriminator won from the first hundred steps and the generator never left noisy grey blobs (one class,
    Fréchet 12,958 in judge features). Batch norm in the hidden layers, the DCGAN paper's remedy that most MLP GAN
    code uses, keeps the generator's gradients alive.
    """

    def __init__(self, latent_dim: int, image_shape: tuple[int, int, int], width: int = 256) -> None:
        super().__init__()
        self.image_shape = tuple(image_shape)
        pixels = image_shape[0] * image_shape[1] * image_shape[2]
        layers: list[nn.Module] = []
        for size_in, size_out in zip([latent_dim, width, width * 2], [width, width * 2, width * 4]):
            layers += [nn.Linear(size_in, size_out), nn.BatchNorm1d(size_out), nn.LeakyReLU(0.2)]
        self.model = nn.Sequential(*layers, nn.Linear(width * 4, pixels), nn.Tanh())

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.model(latent).view(latent.shape[0], *self.image_shape)


class MlpDiscriminator(nn.Module):
    """image → {"adv": score} through LeakyReLU layers with dropout; same head interface as ConvDiscriminator.

    Dropout in the discriminator is the paper's own (its MNIST discriminator used maxout with dropout): it keeps D
    from memorising the few thousand training digits and overpowering G.
    """

    DROPOUT = 0.3

    def __init__(self, image_shape: tuple[int, int, int], width: int = 256, spectral_norm: bool = False) -> None:
        super().__init__()
        pixels = image_shape[0] * image_shape[1] * image_shape[2]
        wrap = apply_spectral_norm if spectral_norm else (lambda module: module)
        layers: list[nn.Module] = []
        for size_in, size_out in zip([pixels, width * 4, width * 2], [width * 4, width * 2, width]):
            layers += [wrap(nn.Linear(size_in, size_out)), nn.LeakyReLU(0.2), nn.Dropout(self.DROPOUT)]
        self.model = nn.Sequential(*layers, wrap(nn.Linear(width, 1)))

    def forward(self, images: torch.Tensor, condition: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        return {"adv": self.model(images.flatten(1))}
