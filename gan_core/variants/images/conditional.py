"""What the class-conditional variants share: they need labels, and the label joins the latent vector."""

from __future__ import annotations

import torch

from gan_core import losses
from gan_core.config import FieldRule, TrainConfig
from gan_core.errors import ConfigError
from gan_core.latent import LatentLayout
from gan_core.variants.images.dcgan import DCGAN

MISMATCH_RULE = FieldRule(
    float, 0.0, 10.0, default=0.0,
    help="weight of a term for D: real images shown with a wrong label are called fake (the matching-aware "
         "discriminator of Reed et al. 2016); 0 is the paper's loss")
"""The setting of the matching-aware term, for the variants whose discriminator is given the label (CGAN, BigGAN)."""


class ClassConditionalDCGAN(DCGAN):
    """DCGAN networks whose generator input carries a one-hot class label (fake labels drawn uniformly).

    A variant whose D is given the label (`condition` not None) may also make D reject real images
    under a wrong label (`mismatch_weight` > 0). Without that term D can score realism alone and
    ignore the label, and G is then not pushed to draw the class it was asked for.
    """

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

    def discriminator_real_extra(self, real: torch.Tensor, labels: torch.Tensor | None) -> dict[str, torch.Tensor]:
        weight = float(self.config.extra.get("mismatch_weight", MISMATCH_RULE.default))
        if weight == 0 or labels is None:
            return {}
        # A uniformly drawn label other than the true one: shift by 1..K-1 places.
        shift = torch.randint(1, self.num_classes, labels.shape, device=labels.device)
        wrong = self.condition((labels + shift) % self.num_classes)
        if wrong is None:
            raise ConfigError(f"{self.config.variant}'s discriminator is not given the label, so mismatch_weight "
                              "does not apply to it; set it to 0")
        scores = self.discriminator(real, wrong)["adv"]
        return {"D_mismatch": weight * losses.discriminator_terms(self.config.objective, scores, scores)["D_fake"]}
