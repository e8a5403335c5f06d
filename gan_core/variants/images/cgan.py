"""CGAN (Mirza & Osindero 2014): generator and discriminator both see the class label."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gan_core.config import SettingGroup, TrainConfig
from gan_core.registry import VariantSpec
from gan_core.variants.images.adversarial import NETWORKS, OPTIMISER, objective_group
from gan_core.variants.images.conditional import MISMATCH_RULE, ClassConditionalDCGAN

CGAN_SETTINGS = {"mismatch_weight": MISMATCH_RULE}


class CGAN(ClassConditionalDCGAN):
    """G gets the one-hot label beside the noise; D gets it as constant planes beside the image
    (and, with `mismatch_weight` > 0, must reject real images under a wrong label: `ClassConditionalDCGAN`)."""

    @classmethod
    def condition_channels(cls, config: TrainConfig, num_classes: int) -> int:
        return num_classes

    def condition(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        one_hot = F.one_hot(labels, self.num_classes).float()
        height, width = self.image_shape[1:]
        return one_hot[:, :, None, None].expand(-1, -1, height, width)


SPEC = VariantSpec(
    name="cgan",
    title="CGAN",
    summary="Conditional GAN: ask for a class and get it; both players are given the label.",
    objective=r"\begin{aligned}\min_G \max_D \; &\mathbb{E}_{x,y}[\log D(x \mid y)]\\"
              r"&+ \mathbb{E}_{z,y}[\log(1 - D(G(z \mid y) \mid y))]\end{aligned}",
    paper="Mirza & Osindero, 2014 — Conditional Generative Adversarial Nets",
    settings=(OPTIMISER, objective_group(), NETWORKS, SettingGroup("Conditioning", ("mismatch_weight",))),
    model_class=CGAN,
    own_settings=CGAN_SETTINGS,
    defaults={"objective": "nonsaturating", "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5},
    conditional=True,
    page="/conditional",
)
