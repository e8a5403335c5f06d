"""Shared pieces of the class-conditional variants: they need labels and draw fake labels uniformly."""

from __future__ import annotations

from gan_core.config import TrainConfig
from gan_core.errors import ConfigError
from gan_core.latent import LatentLayout


def require_labels(variant: str, num_classes: int) -> None:
    if num_classes < 2:
        raise ConfigError(
            f"{variant} is class-conditional and needs a labelled dataset (digits, mnist, cifar10, or a folder "
            "with one subfolder per class)"
        )


def labelled_layout(config: TrainConfig, num_classes: int) -> LatentLayout:
    return LatentLayout(noise_dim=config.noise_dim, num_labels=num_classes)
