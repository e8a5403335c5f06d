"""ACGAN (Odena, Olah & Shlens 2017): the discriminator also classifies; both players use that loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gan_core.config import SettingGroup, TrainConfig
from gan_core.registry import VariantSpec
from gan_core.variants.images.adversarial import NETWORKS, OPTIMISER, objective_group
from gan_core.variants.images.conditional import ClassConditionalDCGAN


class ACGAN(ClassConditionalDCGAN):
    """D has an auxiliary classifier head; L_C is maximised by D and by G (here: CE minimised).

    With `fake_class_loss` off, D's L_C covers real images only (G's still covers its fakes): D stays a
    classifier of real digits instead of also learning which label each fake was drawn with."""

    @classmethod
    def discriminator_heads(cls, config: TrainConfig, num_classes: int) -> dict[str, int]:
        return {"adv": 1, "class": num_classes}

    def discriminator_extra(self, real_out, fake_out, real_labels, fake_parts) -> dict[str, torch.Tensor]:
        class_loss = F.cross_entropy(real_out["class"], real_labels)
        if self.config.fake_class_loss:
            class_loss = class_loss + F.cross_entropy(fake_out["class"], fake_parts["labels"])
        return {"D_cls": self.config.class_weight * class_loss}

    def generator_extra(self, fake_out, fake_parts) -> dict[str, torch.Tensor]:
        return {"G_cls": self.config.class_weight * F.cross_entropy(fake_out["class"], fake_parts["labels"])}


SPEC = VariantSpec(
    name="acgan",
    title="ACGAN",
    summary="Auxiliary-classifier GAN: the discriminator also predicts the class, which sharpens class-conditional samples.",
    objective=r"\begin{aligned}L_S &= \mathbb{E}[\log P(S{=}\text{real}\mid x)]\\ &\quad+ \mathbb{E}[\log P(S{=}\text{fake}\mid G(z,c))]\\"
              r"L_C &= \mathbb{E}[\log P(C{=}c \mid x)]\\ D&: \max L_S + L_C,\quad G: \max L_C - L_S\end{aligned}",
    paper="Odena, Olah & Shlens, 2017 — Conditional Image Synthesis with Auxiliary Classifier GANs",
    settings=(OPTIMISER, objective_group(), NETWORKS, SettingGroup("Auxiliary classifier", ("class_weight", "fake_class_loss"))),
    model_class=ACGAN,
    defaults={"objective": "nonsaturating", "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5},
    conditional=True,
    page="/conditional",
)
