"""LAPGAN (Denton, Chintala, Szlam & Fergus 2015), class-conditional (CC-LAPGAN): a Laplacian pyramid of GANs.

Level 0 generates a coarse image from noise and the label; each finer level generates the residual that
the Laplacian pyramid keeps at its scale, given the upsampled coarser image and the label, and the image
is the sum (`gan_core.pyramid`). Every level trains on real pyramids: its discriminator sees real residuals of
real images against generated ones, each beside the real upsampled coarser image and the label. So the
levels are independent GANs, trained here in the same step; sampling chains them, each level refining what
the one below produced (`gan_core.nets.laplacian.LaplacianGenerator`). A generated residual is projected so that
its refined image halves back to the coarser one (`gan_core.pyramid.consistent_residual`): every real residual
obeys that rule, and a discriminator that could check it had no need to look at the detail.

Three levels at 32×32 (8 → 16 → 32) by default: the paper's CIFAR-10 pyramid, and mnist_5k's 32×32 is the
digit exactly as written with LeNet's 2-pixel border (no resampling), the same images the single-scale
cgan it is compared with (`benchmarks/lapgan_quality.py`) trains on. A 28×28 pyramid (7 → 14 → 28) also
works (`--image-size 28`); at 8×8 a mnist_5k digit is still recognisable, so level 0 has a real job
and the finer levels add stroke shape and edges.

The loss of each level is logged under its own name (`level k/...`), which the live curves chart per level.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from gan_core import losses
from gan_core.config import FieldRule, SettingGroup, TrainConfig
from gan_core.errors import ConfigError
from gan_core.latent import LatentLayout
from gan_core.nets.init import normal_init_
from gan_core.nets.laplacian import LaplacianDiscriminator, LaplacianGenerator
from gan_core.pyramid import build_pyramid, level_sizes, upsample
from gan_core.registry import VariantSpec
from gan_core.stages import stage_columns, stage_pictures
from gan_core.variants.base import BatchSource, GanModel, total_grad_norm
from gan_core.variants.images.adversarial import with_standing_statistics

LEVELS = 3
LAPGAN_SETTINGS = {
    "refiner_depth": FieldRule(int, 0, 8, default=4, help="LAPGAN: 3×3 layers in each finer level's generator between "
                               "its first and last (more see more of the coarser image around each pixel)"),
}
UNRECORDED_REFINER_DEPTH = 1
"""The depth of checkpoints saved before the setting existed (their config does not name it)."""


class LevelInput(NamedTuple):
    """What one level trains on: the real sample its D sees (the coarse image, or a residual) and the real
    coarser image it refines, at its own side and upsampled (None at level 0)."""

    sample: torch.Tensor
    coarser: torch.Tensor | None
    coarser_up: torch.Tensor | None


class LAPGAN(GanModel):
    """Every level's G and D in one model; one step updates every level's D, then every level's G."""

    weight_init = staticmethod(normal_init_)
    pyramid_stages = True  # its generator can show each step of a sample (gan_core.stages)

    def __init__(self, config: TrainConfig, image_shape: tuple[int, int, int], num_classes: int) -> None:
        if num_classes < 2:
            raise ConfigError(f"{config.variant} is class-conditional (CC-LAPGAN) and needs a labelled dataset "
                              "(mnist_5k, digits, mnist, cifar10, or a folder with one subfolder per class)")
        super().__init__(config, image_shape, num_classes)

    @classmethod
    def latent_layout(cls, config: TrainConfig, num_classes: int) -> LatentLayout:
        """Level 0's noise, one noise plane per finer level, then the label: everything a sample is made from."""
        sizes = level_sizes(config.image_size, LEVELS)
        return LatentLayout(noise_dim=config.noise_dim + sum(size * size for size in sizes[1:]), num_labels=num_classes)

    @classmethod
    def build_generator(cls, config: TrainConfig, image_shape, num_classes) -> nn.Module:
        depth = int(config.extra.get("refiner_depth", UNRECORDED_REFINER_DEPTH))
        return LaplacianGenerator(config.noise_dim, num_classes, image_shape[0], image_shape[1], LEVELS, config.width,
                                  depth)

    @classmethod
    def build_discriminator(cls, config: TrainConfig, image_shape, num_classes) -> nn.Module:
        return LaplacianDiscriminator(num_classes, image_shape[0], image_shape[1], LEVELS, config.width)

    def sampling_generator(self) -> nn.Module:
        """The EMA generator with batch-norm statistics of its own chained samples (see `with_standing_statistics`)."""
        if self.ema_generator is None:
            return self.generator
        return with_standing_statistics(self.ema_generator, self.layout)

    def level_inputs(self, real: torch.Tensor) -> list[LevelInput]:
        """Per level: the real sample its D sees, and the real coarser image it is conditioned on."""
        pyramid = build_pyramid(real, LEVELS)
        images = pyramid.images()
        inputs = [LevelInput(pyramid.coarse, None, None)]
        for k, residual in enumerate(pyramid.residuals, start=1):
            inputs.append(LevelInput(residual, images[k - 1], upsample(images[k - 1])))
        return inputs

    def fake_samples(self, inputs: list[LevelInput], one_hot: torch.Tensor) -> list[torch.Tensor]:
        """Each level's generated sample for the same conditions as the real ones (kept attached to G)."""
        generator: LaplacianGenerator = self.generator
        batch = one_hot.shape[0]
        fakes = []
        for k, level in enumerate(inputs):
            noise = torch.randn(batch, generator.noise_dims[k], device=one_hot.device)
            fakes.append(generator.level(k, noise, level.coarser, one_hot))
        return fakes

    def discriminator_step(self, inputs, fakes, one_hot: torch.Tensor) -> dict[str, torch.Tensor]:
        c = self.config
        logs: dict[str, torch.Tensor] = {}
        total = []
        for k, (level, fake) in enumerate(zip(inputs, fakes)):
            real_scores = self.discriminator(k, level.sample, level.coarser_up, one_hot)
            fake_scores = self.discriminator(k, fake.detach(), level.coarser_up, one_hot)
            terms = losses.discriminator_terms(c.objective, real_scores, fake_scores, c.label_smoothing)
            total += list(terms.values())
            logs.update({f"level {k}/{name}": value.detach() for name, value in terms.items()})
            logs[f"level {k}/D(x)"] = losses.probabilities(c.objective, real_scores.detach())
            logs[f"level {k}/D(G(z))"] = losses.probabilities(c.objective, fake_scores.detach())
        optimizer = self.optimizers["discriminator"]
        optimizer.zero_grad(set_to_none=True)
        torch.stack(total).sum().backward()
        logs["grad_norm_D"] = total_grad_norm(self.discriminator)
        optimizer.step()
        return logs

    def generator_step(self, inputs, fakes, one_hot: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each level's G against its own D; the levels share no weights, so one summed backward updates each
        exactly as its own step would."""
        self.discriminator.requires_grad_(False)
        logs: dict[str, torch.Tensor] = {}
        total = []
        for k, (level, fake) in enumerate(zip(inputs, fakes)):
            loss = losses.generator_loss(self.config.objective, self.discriminator(k, fake, level.coarser_up, one_hot))
            total.append(loss)
            logs[f"level {k}/G_GAN"] = loss.detach()
        optimizer = self.optimizers["generator"]
        optimizer.zero_grad(set_to_none=True)
        torch.stack(total).sum().backward()
        self.discriminator.requires_grad_(True)
        logs["grad_norm_G"] = total_grad_norm(self.generator)
        optimizer.step()
        return logs

    def train_step(self, next_batch: BatchSource) -> dict[str, torch.Tensor]:
        """One D update and one G update at every level, on one real batch's pyramid; the real labels condition
        both (each level's real coarser image already shows that digit)."""
        real, labels = next_batch()
        one_hot = F.one_hot(labels, self.num_classes).to(real.dtype)
        inputs = self.level_inputs(real)
        fakes = self.fake_samples(inputs, one_hot)
        logs = self.discriminator_step(inputs, fakes, one_hot)
        logs.update(self.generator_step(inputs, fakes, one_hot))
        self.update_ema()
        return logs

    def setup_preview(self, dataset, device: torch.device, seed: int) -> None:
        """One sample per label, a row each: fixed noise, labels 0, 1, 2, ..."""
        rows = min(self.num_classes, 10)
        self.preview_inputs = self.layout.grid_parts(rows, 1, seed, device)

    @torch.inference_mode()
    def preview(self) -> tuple[torch.Tensor, int]:
        """A row per label showing the chain: coarse image, then each residual (grey = 0) and refined level."""
        generator = self.sampling_generator()
        was_training = generator.training
        generator.eval()
        pictures = stage_pictures(generator.stages(self.layout.compose(**self.preview_inputs)))
        generator.train(was_training)
        return pictures.flatten(0, 1), pictures.shape[1]


SPEC = VariantSpec(
    name="lapgan",
    title="LAPGAN",
    summary="Laplacian pyramid of conditional GANs: a coarse 8×8 digit from noise and the label, then each finer "
            "level generates the detail (the residual) that refines the upsampled image below it.",
    objective=r"\begin{aligned}I_k &= u(I_{k+1}) + h_k,\quad l_k = u(I_{k+1})\\"
              r"\tilde h_k &= G_k(z_k, l_k, y),\; \tilde I_K = G_K(z_K, y)\\"
              r"&\min_{G_k}\max_{D_k} \mathbb{E}[\log D_k(h_k, l_k, y)]\\"
              r"&\quad + \mathbb{E}[\log(1 - D_k(\tilde h_k, l_k, y))]\end{aligned}",
    paper="Denton, Chintala, Szlam & Fergus, 2015 — Deep Generative Image Models using a Laplacian Pyramid of "
          "Adversarial Networks",
    settings=(
        SettingGroup("Optimiser", ("lr_g", "lr_d", "beta1", "beta2", "lr_decay_start")),
        SettingGroup("Objective", ("objective", "label_smoothing", "ema_decay")),
        SettingGroup("Networks", ("noise_dim", "width", "refiner_depth")),
    ),
    model_class=LAPGAN,
    own_settings=LAPGAN_SETTINGS,
    defaults={"objective": "nonsaturating", "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999,
              "ema_decay": 0.999, "noise_dim": 64, "width": 32, "batch_size": 32, "steps": 2000},
    conditional=True,
    page="/conditional",
    preview_columns=stage_columns(LEVELS),
)
