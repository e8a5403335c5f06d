"""WGAN (Arjovsky, Chintala & Bottou 2017): a critic estimates the Wasserstein-1 distance."""

from __future__ import annotations

import torch

from gan_core.registry import VariantSpec
from gan_core.variants.images.adversarial import NETWORKS, OPTIMISER, objective_group
from gan_core.variants.images.dcgan import DCGAN


class WGAN(DCGAN):
    """Critic without sigmoid, weights clipped to [-c, c] after every critic update."""

    @torch.no_grad()
    def after_discriminator_step(self) -> None:
        clip = self.config.weight_clip
        if clip > 0:
            for parameter in self.discriminator.parameters():
                parameter.clamp_(-clip, clip)


SPEC = VariantSpec(
    name="wgan",
    title="WGAN",
    summary="Wasserstein GAN: a weight-clipped critic whose score gap estimates the Earth-Mover distance.",
    objective=r"\min_G \max_{\|C\|_L \le 1} \; \mathbb{E}_x[C(x)] - \mathbb{E}_z[C(G(z))]",
    paper="Arjovsky, Chintala & Bottou, 2017 — Wasserstein GAN",
    settings=(OPTIMISER, objective_group("weight_clip"), NETWORKS),
    model_class=WGAN,
    defaults={
        "objective": "wasserstein", "optimizer": "rmsprop", "lr_g": 5e-5, "lr_d": 5e-5,
        "n_critic": 5, "weight_clip": 0.01,
    },
    page="/train",
    discriminator="critic",
)
