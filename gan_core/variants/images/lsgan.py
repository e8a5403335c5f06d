"""LSGAN (Mao et al. 2017): least-squares losses instead of the log loss, on DCGAN networks."""

from gan_core.registry import VariantSpec
from gan_core.variants.images.adversarial import NETWORKS, OPTIMISER, objective_group
from gan_core.variants.images.dcgan import DCGAN


class LSGAN(DCGAN):
    """DCGAN networks trained with the least-squares objective (a=0, b=c=1)."""


SPEC = VariantSpec(
    name="lsgan",
    title="LSGAN",
    summary="Least-squares GAN: penalises fakes by their distance to the decision boundary, giving smoother gradients.",
    objective=r"\begin{aligned}&\min_D \tfrac12\mathbb{E}_x[(D(x)-1)^2] + \tfrac12\mathbb{E}_z[D(G(z))^2]\\"
              r"&\min_G \tfrac12\mathbb{E}_z[(D(G(z))-1)^2]\end{aligned}",
    paper="Mao et al., 2017 — Least Squares Generative Adversarial Networks",
    settings=(OPTIMISER, objective_group(), NETWORKS),
    model_class=LSGAN,
    defaults={"objective": "least_squares", "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5},
    page="/train",
)
