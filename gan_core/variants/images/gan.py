"""The original GAN (Goodfellow et al. 2014): fully connected networks, the minimax game."""

from __future__ import annotations

from torch import nn

from gan_core.config import TrainConfig
from gan_core.nets.mlp import MlpDiscriminator, MlpGenerator
from gan_core.registry import VariantSpec
from gan_core.variants.images.adversarial import NETWORKS, OPTIMISER, AdversarialImageGan, objective_group


class VanillaGAN(AdversarialImageGan):
    """MLP generator and discriminator. `objective` "minimax" gives the paper's saturating G loss."""

    @classmethod
    def build_generator(cls, config: TrainConfig, image_shape, num_classes) -> nn.Module:
        return MlpGenerator(cls.latent_layout(config, num_classes).dim, image_shape, config.width)

    @classmethod
    def build_discriminator(cls, config: TrainConfig, image_shape, num_classes) -> nn.Module:
        return MlpDiscriminator(image_shape, config.width, config.spectral_norm)


SPEC = VariantSpec(
    name="gan",
    title="GAN",
    summary="The original adversarial game with fully connected networks; non-saturating G loss by default, minimax as an option.",
    objective=r"\min_G \max_D \; \mathbb{E}_x[\log D(x)] + \mathbb{E}_z[\log(1 - D(G(z)))]",
    paper="Goodfellow et al., 2014 — Generative Adversarial Nets",
    settings=(OPTIMISER, objective_group("gp_weight"), NETWORKS),
    model_class=VanillaGAN,
    # An MLP step is cheap (about 4× DCGAN's images per second), and it needs the steps: on mnist_5k it draws all ten
    # digits, roughly, from about 2,000 steps, and cleans up by 8,000 with an EMA generator and the learning rates
    # falling over the second half (Fréchet 444 → 98; checkpoints/README.md).
    defaults={"objective": "nonsaturating", "width": 128, "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5,
              "steps": 8000, "ema_decay": 0.999, "lr_decay_start": 0.5},
    page="/train",
)
