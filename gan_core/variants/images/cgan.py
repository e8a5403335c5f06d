"""CGAN (Mirza & Osindero 2014): generator and discriminator both see the class label."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gan_core import losses
from gan_core.config import FieldRule, SettingGroup, TrainConfig
from gan_core.registry import VariantSpec
from gan_core.variants.images.adversarial import NETWORKS, OPTIMISER, objective_group
from gan_core.variants.images.conditional import ClassConditionalDCGAN


CGAN_SETTINGS = {
    "mismatch_weight": FieldRule(float, 0.0, 10.0, default=0.0, help="CGAN: weight of a third term for D, real "
                                 "images shown with a wrong label and called fake (the matching-aware discriminator "
                                 "of Reed et al. 2016); 0 is the paper's CGAN"),
}


class CGAN(ClassConditionalDCGAN):
    """G gets the one-hot label beside the noise; D gets it as constant planes beside the image.

    With `mismatch_weight` > 0, D must also reject real images under a wrong label. Without that
    term D can score realism and ignore the label planes, and G is then not pushed to draw the class.
    """

    @classmethod
    def setting(cls, config: TrainConfig, name: str):
        return config.extra.get(name, CGAN_SETTINGS[name].default)

    @classmethod
    def condition_channels(cls, config: TrainConfig, num_classes: int) -> int:
        return num_classes

    def condition(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        one_hot = F.one_hot(labels, self.num_classes).float()
        height, width = self.image_shape[1:]
        return one_hot[:, :, None, None].expand(-1, -1, height, width)

    def discriminator_real_extra(self, real: torch.Tensor, labels: torch.Tensor | None) -> dict[str, torch.Tensor]:
        weight = self.setting(self.config, "mismatch_weight")
        if weight == 0 or labels is None:
            return {}
        # A uniformly drawn label other than the true one: shift by 1..K-1 places.
        shift = torch.randint(1, self.num_classes, labels.shape, device=labels.device)
        wrong = (labels + shift) % self.num_classes
        scores = self.discriminator(real, self.condition(wrong))["adv"]
        return {"D_mismatch": weight * losses.discriminator_terms(self.config.objective, scores, scores)["D_fake"]}


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
