"""WGAN-GP (Gulrajani et al. 2017): the Lipschitz constraint as a gradient penalty, not clipping."""

from gan_core.registry import VariantSpec
from gan_core.variants.images.adversarial import NETWORKS, OPTIMISER, objective_group
from gan_core.variants.images.dcgan import DCGAN


class WGANGP(DCGAN):
    """Critic without batch norm (the penalty is per sample), layer norm instead."""

    discriminator_norm = "layer"


SPEC = VariantSpec(
    name="wgan_gp",
    title="WGAN-GP",
    summary="Wasserstein GAN with gradient penalty: stable training without weight clipping.",
    objective=r"\begin{aligned}\min_G \max_C \; &\mathbb{E}_x[C(x)] - \mathbb{E}_z[C(G(z))]\\"
              r"&- \lambda\,\mathbb{E}_{\hat x}[(\|\nabla_{\hat x} C(\hat x)\|_2 - 1)^2]\end{aligned}",
    paper="Gulrajani et al., 2017 — Improved Training of Wasserstein GANs",
    settings=(OPTIMISER, objective_group("gp_weight"), NETWORKS),
    model_class=WGANGP,
    defaults={
        "objective": "wasserstein", "gp_weight": 10.0, "lr_g": 1e-4, "lr_d": 1e-4,
        "beta1": 0.5, "beta2": 0.9, "n_critic": 5,
    },
    page="/train",
    discriminator="critic",
)
