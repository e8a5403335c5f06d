"""CycleGAN (Zhu et al. 2017): two translators trained on unpaired domains, held together by cycles.

G_A maps A→B and G_B maps B→A; D_A judges domain B and D_B judges domain A (the official naming).
With no pairs to compare against, the cycle losses ask G_B(G_A(a)) ≈ a and G_A(G_B(b)) ≈ b
(λ = 10 each way), and the identity losses ask a generator to leave images already in its target
domain alone (0.5·λ), which keeps colours from drifting. As in the official code: least-squares
objective, discriminators fed from a pool of 50 past fakes, and the learning rate constant for the
first half of the steps, then decayed linearly towards zero (`lr_decay_start` 0.5).

The pools are part of the module's state (`get_extra_state`), so they are saved in the resume file
and a resumed run continues exactly; the learning rates follow from the trainer's step.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.config import FieldRule, SettingGroup, TrainConfig
from gan_core.nets.image_to_image import GeneratorArch, NLayerDiscriminator, ResnetGenerator
from gan_core.registry import VariantSpec
from gan_core.samples import IMAGE_PAIRS
from gan_core.variants.base import BatchSource, total_grad_norm
from gan_core.variants.translation.base import NETWORKS, OPTIMISER, ImageToImageGan, freeze, resnet_blocks

POOL_SIZE = 50


class ImagePool(nn.Module):
    """A buffer of past fakes: the discriminator sees a mix of old and new ones, which damps oscillation.

    Once full, each new fake is, with probability ½, swapped for a random stored one (which is what
    the discriminator then sees). Decisions use the global CPU torch RNG, saved with the run.
    """

    def __init__(self, size: int = POOL_SIZE) -> None:
        super().__init__()
        self.size = size
        self.images: list[torch.Tensor] = []

    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        """The fakes the discriminator sees, always detached from the generator's graph (also with no pool:
        D's loss must never backpropagate into G, whose graph its own update has already freed)."""
        fakes = fakes.detach()
        if self.size == 0:
            return fakes
        swap = (torch.rand(fakes.shape[0]) < 0.5).tolist()
        slots = torch.randint(0, self.size, (fakes.shape[0],)).tolist()
        chosen = []
        for fake, use_old, slot in zip(fakes, swap, slots):
            if len(self.images) < self.size:
                self.images.append(fake.clone())
                chosen.append(fake)
            elif use_old:
                chosen.append(self.images[slot].to(fake.device))
                self.images[slot] = fake.clone()
            else:
                chosen.append(fake)
        return torch.stack(chosen)

    def get_extra_state(self) -> dict[str, Any]:
        return {"images": torch.stack(self.images) if self.images else torch.empty(0)}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.images = list(state["images"].unbind(0)) if state["images"].numel() else []


class CycleGAN(ImageToImageGan):
    """Two ResNet generators (a_to_b, b_to_a) and two instance-norm PatchGANs (a judges B, b judges A)."""

    def __init__(self, config: TrainConfig, image_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__(config, image_shape, num_classes)
        self.pool_a = ImagePool(int(config.extra.get("pool_size", POOL_SIZE)))  # fakes of domain A
        self.pool_b = ImagePool(int(config.extra.get("pool_size", POOL_SIZE)))  # fakes of domain B

    @classmethod
    def build_generator(cls, config: TrainConfig, image_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
        channels, blocks = image_shape[0], resnet_blocks(config)
        return nn.ModuleDict({
            "a_to_b": ResnetGenerator(channels, channels, config.width, "instance", False, blocks),
            "b_to_a": ResnetGenerator(channels, channels, config.width, "instance", False, blocks),
        })

    @classmethod
    def generator_arch(cls, config: TrainConfig, image_shape: tuple[int, int, int]) -> GeneratorArch:
        """Each direction's ResNet generator (both are alike)."""
        return GeneratorArch("resnet", config.width, "instance", image_shape[0], image_shape[0],
                             n_blocks=resnet_blocks(config))

    @classmethod
    def build_discriminator(
        cls, config: TrainConfig, image_shape: tuple[int, int, int], num_classes: int
    ) -> nn.Module:
        return nn.ModuleDict({
            "a": NLayerDiscriminator(image_shape[0], config.width, n_layers=3, norm="instance"),
            "b": NLayerDiscriminator(image_shape[0], config.width, n_layers=3, norm="instance"),
        })

    def train_step(self, next_batch: BatchSource) -> dict[str, torch.Tensor]:
        c = self.config
        real_a, real_b = next_batch()
        g_a, g_b = self.generator["a_to_b"], self.generator["b_to_a"]
        d_a, d_b = self.discriminator["a"], self.discriminator["b"]

        fake_b, fake_a = g_a(real_a), g_b(real_b)
        rec_a, rec_b = g_b(fake_b), g_a(fake_a)
        freeze(self.discriminator, True)
        idt_weight = c.cycle_weight * c.identity_weight
        terms = {
            "G_A": _least_squares(d_a(fake_b), 1.0),
            "G_B": _least_squares(d_b(fake_a), 1.0),
            "cycle_A": F.l1_loss(rec_a, real_a) * c.cycle_weight,
            "cycle_B": F.l1_loss(rec_b, real_b) * c.cycle_weight,
        }
        if idt_weight > 0:
            terms["idt_A"] = F.l1_loss(g_a(real_b), real_b) * idt_weight
            terms["idt_B"] = F.l1_loss(g_b(real_a), real_a) * idt_weight
        else:
            terms["idt_A"] = terms["idt_B"] = torch.zeros((), device=real_a.device)
        optimizer = self.optimizers["generator"]
        optimizer.zero_grad(set_to_none=True)
        torch.stack(list(terms.values())).sum().backward()
        grad_norm_g = total_grad_norm(self.generator)
        optimizer.step()

        freeze(self.discriminator, False)
        pooled_b, pooled_a = self.pool_b.query(fake_b), self.pool_a.query(fake_a)
        terms["D_A"] = (_least_squares(d_a(real_b), 1.0) + _least_squares(d_a(pooled_b), 0.0)) * 0.5
        terms["D_B"] = (_least_squares(d_b(real_a), 1.0) + _least_squares(d_b(pooled_a), 0.0)) * 0.5
        optimizer = self.optimizers["discriminator"]
        optimizer.zero_grad(set_to_none=True)
        (terms["D_A"] + terms["D_B"]).backward()
        grad_norm_d = total_grad_norm(self.discriminator)
        optimizer.step()
        self.update_ema()
        logs = {name: terms[name].detach() for name in
                ("D_A", "G_A", "cycle_A", "idt_A", "D_B", "G_B", "cycle_B", "idt_B")}
        logs["grad_norm_G"], logs["grad_norm_D"] = grad_norm_g, grad_norm_d
        return logs

    def preview_rows(self) -> list[torch.Tensor]:
        """A, G_A(A) and the reconstruction G_B(G_A(A)) per row."""
        generator = self.sampling_generator()
        translated = generator["a_to_b"](self.preview_a)
        return [self.preview_a, translated, generator["b_to_a"](translated)]


def _least_squares(scores: torch.Tensor, target: float) -> torch.Tensor:
    """LSGAN loss as the official CycleGAN writes it: mean squared distance to the target label."""
    return F.mse_loss(scores, torch.full_like(scores, target))


SPEC = VariantSpec(
    name="cyclegan",
    title="CycleGAN",
    summary="Unpaired image-to-image translation: two generators map A→B and B→A, and cycle-consistency "
            "losses make each undo the other.",
    objective=r"\begin{aligned}&\mathcal{L}_{GAN}(G_A,D_A)+\mathcal{L}_{GAN}(G_B,D_B)\\"
              r"&+\lambda\left(\|G_B(G_A(a))-a\|_1+\|G_A(G_B(b))-b\|_1\right)\\"
              r"&+0.5\lambda\left(\|G_A(b)-b\|_1+\|G_B(a)-a\|_1\right)\\"
              r"&\lambda=10,\ \text{least-squares } \mathcal{L}_{GAN}\end{aligned}",
    paper="Zhu et al., 2017 — Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks",
    model_class=CycleGAN,
    defaults={"dataset": "photo2sketch", "image_size": 64, "width": 16, "batch_size": 1, "lr_g": 2e-4,
              "lr_d": 2e-4, "beta1": 0.5, "cycle_weight": 10.0,
              "identity_weight": 0.5, "steps": 4000, "lr_decay_start": 0.5},
    settings=(OPTIMISER, NETWORKS, SettingGroup("Translation", ("cycle_weight", "identity_weight", "pool_size"))),
    own_settings={"pool_size": FieldRule(int, 0, 1000, default=POOL_SIZE, help="CycleGAN: past fakes the discriminators "
                                         "also see (the official 50); 0 shows them only the newest")},
    sample_kind=IMAGE_PAIRS,
    data="image_pairs",
    page="/translate",
    preview_columns=("input (A)", "translation G_A(A)", "back again G_B(G_A(A))"),
)
