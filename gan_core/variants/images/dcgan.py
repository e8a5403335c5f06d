"""DCGAN (Radford, Metz & Chintala 2016): the convolutional architecture that made GANs train."""

from __future__ import annotations

from torch import nn

from gan_core.config import TrainConfig
from gan_core.nets.dcgan import ConvDiscriminator, ConvGenerator
from gan_core.nets.init import normal_init_
from gan_core.registry import VariantSpec
from gan_core.variants.images.adversarial import NETWORKS, OPTIMISER, AdversarialImageGan, objective_group


class DCGAN(AdversarialImageGan):
    """Convolutional generator and discriminator with the non-saturating GAN objective."""

    discriminator_norm = "batch"
    weight_init = staticmethod(normal_init_)  # N(0, 0.02), as the paper initialises every layer

    @classmethod
    def build_generator(cls, config: TrainConfig, image_shape, num_classes) -> nn.Module:
        layout = cls.latent_layout(config, num_classes)
        return ConvGenerator(layout.dim, image_shape[0], image_shape[1], config.width)

    @classmethod
    def discriminator_heads(cls, config: TrainConfig, num_classes: int) -> dict[str, int]:
        return {"adv": 1}

    @classmethod
    def condition_channels(cls, config: TrainConfig, num_classes: int) -> int:
        return 0

    @classmethod
    def build_discriminator(cls, config: TrainConfig, image_shape, num_classes) -> nn.Module:
        return ConvDiscriminator(
            image_shape[0], image_shape[1], config.width,
            heads=cls.discriminator_heads(config, num_classes),
            norm=cls.discriminator_norm,
            spectral_norm=config.spectral_norm,
            condition_channels=cls.condition_channels(config, num_classes),
            hidden_heads=("q_cat", "q_cont"),
        )


SPEC = VariantSpec(
    name="dcgan",
    title="DCGAN",
    summary="Deep convolutional GAN: strided convolutions, batch norm, the architecture most image GANs start from.",
    objective=r"\begin{aligned}&\min_G \max_D \; \mathbb{E}_x[\log D(x)] + \mathbb{E}_z[\log(1 - D(G(z)))]\\"
              r"&G \text{ minimises } -\log D(G(z)) \text{ instead}\end{aligned}",
    paper="Radford, Metz & Chintala, 2016 — Unsupervised Representation Learning with DCGANs",
    settings=(OPTIMISER, objective_group(), NETWORKS),
    model_class=DCGAN,
    defaults={"objective": "nonsaturating", "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999},
    page="/train",
)
