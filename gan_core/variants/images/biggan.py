"""BigGAN (Brock, Donahue & Simonyan 2019): large-scale class-conditional GAN, here at digit scale.

What the paper combines, each here: class-conditional batch norm from a shared embedding with
hierarchical z, a projection discriminator, spectral norm in both players, self-attention, the hinge
loss, orthogonal regularisation of G (logged as `G_ortho`), an EMA generator, two D steps per G step
with D's learning rate 4× G's, Adam with β1 = 0, and truncation at sampling time
(`gan_core.truncation`).

Where this differs from the paper, and why: the learning rates are 1e-4 (G) and 4e-4 (D), twice the
paper's 5e-5 / 2e-4 but in its 1 : 4 ratio (the official BigGAN-PyTorch scripts use the same pair),
because a CPU run has ~2,000 updates where the paper has 100k+; the EMA decay is 0.999 (paper 0.9999)
for the same reason; the batch is 32 (paper 2,048) and the widths and shared embedding are small (width 16,
embedding 32; paper 128) so that a run of 1,500 steps takes about 15 minutes of one CPU core (the shipped file
trains 10,000).

`augment` (DiffAugment, `gan_core.augment`; not in the paper, off by default) shows D every image through a
random translation and cutout; on mnist_5k it slowed learning and ended worse (BENCHMARKS.md), so it is
offered for smaller training sets rather than used.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_core.config import FieldRule, SettingGroup, TrainConfig
from gan_core.nets.biggan import BigGanGenerator, ProjectionDiscriminator, orthogonal_penalty
from gan_core.registry import VariantSpec
from gan_core.variants.images.adversarial import AUGMENT_RULE, NETWORKS
from gan_core.variants.images.conditional import MISMATCH_RULE, ClassConditionalDCGAN

SHARED_DIM_DEFAULT = 32
ORTHO_WEIGHT_DEFAULT = 1e-4  # β of the paper


class BigGAN(ClassConditionalDCGAN):
    """Projection D and a CBN generator; G's loss adds β·Σ‖WWᵀ ⊙ (1 − I)‖²."""

    weight_init = None  # PyTorch's defaults rather than DCGAN's N(0, 0.02), which spectral norm would rescale anyway
    noise_truncation = True  # sampling may resample noise values beyond a threshold (gan_core.truncation)

    @classmethod
    def build_generator(cls, config: TrainConfig, image_shape, num_classes) -> nn.Module:
        shared_dim = int(config.extra.get("shared_dim", SHARED_DIM_DEFAULT))
        return BigGanGenerator(config.noise_dim, num_classes, image_shape[0], image_shape[1], config.width, shared_dim)

    @classmethod
    def build_discriminator(cls, config: TrainConfig, image_shape, num_classes) -> nn.Module:
        return ProjectionDiscriminator(image_shape[0], image_shape[1], num_classes, config.width)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        return {
            "generator": torch.optim.Adam(self.generator.parameters(), lr=c.lr_g, betas=(c.beta1, c.beta2), eps=1e-6),
            "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=c.lr_d, betas=(c.beta1, c.beta2),
                                              eps=1e-6),
        }

    def condition(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        """The projection discriminator takes the labels themselves."""
        return labels

    def generator_extra(self, fake_out, fake_parts) -> dict[str, torch.Tensor]:
        weight = float(self.config.extra.get("ortho_weight", ORTHO_WEIGHT_DEFAULT))
        penalty = orthogonal_penalty(self.generator, skip=(self.generator.shared,))
        return {"G_ortho": weight * penalty}


SPEC = VariantSpec(
    name="biggan",
    title="BigGAN",
    summary="Large-scale class-conditional GAN: class-conditional batch norm, projection discriminator, "
            "orthogonal regularisation and the truncation trick (fidelity for variety at sampling time).",
    objective=r"\begin{aligned}L_D &= \mathbb{E}[\max(0, 1 - D(x, y))]\\ &\quad+ \mathbb{E}[\max(0, 1 + D(G(z, y), y))]\\"
              r"L_G &= -\mathbb{E}[D(G(z, y), y)]\\ &\quad+ \beta \textstyle\sum_W \lVert W W^\top \odot (\mathbf{1} - I)"
              r"\rVert_F^2\\ D(x, y) &= \psi(\phi(x)) + \operatorname{embed}(y)^\top \phi(x)\end{aligned}",
    paper="Brock, Donahue & Simonyan, 2019 — Large Scale GAN Training for High Fidelity Natural Image Synthesis",
    settings=(
        SettingGroup("Optimiser", ("lr_g", "lr_d", "beta1", "beta2", "n_critic", "lr_decay_start")),
        SettingGroup("Objective", ("objective", "ema_decay", "ortho_weight", "mismatch_weight", "augment")),  # hinge, as the paper
        SettingGroup("Networks", (*NETWORKS.fields, "shared_dim")),
    ),
    own_settings={
        "augment": AUGMENT_RULE,
        "mismatch_weight": MISMATCH_RULE,
        "ortho_weight": FieldRule(float, 0.0, 1.0, default=ORTHO_WEIGHT_DEFAULT,
                                  help="BigGAN: β of the orthogonal regularisation of G's weights (paper 1e-4)"),
        "shared_dim": FieldRule(int, 1, 512, default=SHARED_DIM_DEFAULT,
                                help="BigGAN: size of the class embedding shared by G's blocks (paper 128)"),
    },
    model_class=BigGAN,
    defaults={"objective": "hinge", "lr_g": 1e-4, "lr_d": 4e-4, "beta1": 0.0,
              "beta2": 0.999, "n_critic": 2, "ema_decay": 0.999, "noise_dim": 80, "width": 16, "batch_size": 32, "steps": 1500},
    conditional=True,
    page="/conditional",
)
