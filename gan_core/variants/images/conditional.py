"""What the class-conditional variants share: they need labels, and the label joins the latent vector."""

from __future__ import annotations

from gan_core.config import TrainConfig
from gan_core.errors import ConfigError
from gan_core.latent import LatentLayout
from gan_core.variants.images.dcgan import DCGAN


class ClassConditionalDCGAN(DCGAN):
    """DCGAN networks whose generator input carries a one-hot class label (fake labels drawn uniformly)."""

    def __init__(self, config: TrainConfig, image_shape, num_classes: int) -> None:
        if num_classes < 2:
            raise ConfigError(
                f"{config.variant} is class-conditional and needs a labelled dataset (mnist_5k, digits, mnist, cifar10, "
                "or a folder with one subfolder per class)"
            )
        super().__init__(config, image_shape, num_classes)

    @classmethod
    def latent_layout(cls, config: TrainConfig, num_classes: int) -> LatentLayout:
        return LatentLayout(noise_dim=config.noise_dim, num_labels=num_classes)
