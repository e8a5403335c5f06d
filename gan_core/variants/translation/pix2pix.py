"""pix2pix (Isola et al. 2017): a U-Net translates A to B, judged by a PatchGAN that sees both.

The discriminator scores patches of the (input, output) pair stacked on channels, so it learns
whether the output fits *this* input, and the L1 term (λ = 100) ties the output to the target's
low frequencies while the adversarial term sharpens the details. Objective as in the official
implementation: the vanilla log loss (with logits), D's loss halved, no image pool.

With `keep_lightness` (colourisation) the generator is the official colorization model's: the U-Net
predicts only the Lab chroma from the input's lightness, and the output keeps that lightness
(`gan_core.nets.colorizer`); the objective above is unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_core import losses
from gan_core.config import SettingGroup, TrainConfig
from gan_core.errors import ConfigError
from gan_core.nets.colorizer import LightnessKeepingColorizer
from gan_core.nets.image_to_image import GeneratorArch, NLayerDiscriminator, UnetGenerator, batch_statistics
from gan_core.registry import VariantSpec
from gan_core.samples import IMAGE_PAIRS
from gan_core.variants.base import BatchSource, total_grad_norm
from gan_core.variants.translation.base import NETWORKS, OPTIMISER, ImageToImageGan, freeze, unet_depth


class Pix2Pix(ImageToImageGan):
    """U-Net generator (batch norm, dropout as official) and a 3-layer PatchGAN on 2·C channels."""

    needs_aligned_pairs = True

    @classmethod
    def build_generator(cls, config: TrainConfig, image_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
        channels, depth = image_shape[0], unet_depth(image_shape[-1])
        if not config.keep_lightness:
            return UnetGenerator(channels, channels, depth, config.width, "batch", dropout=True)
        if channels != 3:
            raise ConfigError(f"keep_lightness colours RGB pictures; this dataset has {channels}-channel images")
        return LightnessKeepingColorizer(UnetGenerator(1, 2, depth, config.width, "batch", dropout=True),
                                         config.chroma_downsample)

    @classmethod
    def generator_arch(cls, config: TrainConfig, image_shape: tuple[int, int, int]) -> GeneratorArch:
        """A U-Net, with dropout on its levels below the fifth (from 64 px); a colouriser's is met through its
        RGB-in, RGB-out wrapper."""
        channels, depth = image_shape[0], unet_depth(image_shape[-1])
        return GeneratorArch("unet", config.width, "batch", channels, channels, num_downs=depth, dropout=depth > 5)

    @classmethod
    def build_discriminator(
        cls, config: TrainConfig, image_shape: tuple[int, int, int], num_classes: int
    ) -> nn.Module:
        return NLayerDiscriminator(2 * image_shape[0], config.width, n_layers=3, norm="batch")

    def train_step(self, next_batch: BatchSource) -> dict[str, torch.Tensor]:
        source, target = next_batch()
        fake = self.generator(source)

        freeze(self.discriminator, False)
        real_scores = self.discriminator(torch.cat([source, target], 1))
        fake_scores = self.discriminator(torch.cat([source, fake.detach()], 1))
        d_real, d_fake = losses.bce(real_scores, 1.0), losses.bce(fake_scores, 0.0)
        optimizer = self.optimizers["discriminator"]
        optimizer.zero_grad(set_to_none=True)
        ((d_real + d_fake) * 0.5).backward()
        grad_norm_d = total_grad_norm(self.discriminator)
        optimizer.step()

        freeze(self.discriminator, True)
        g_gan = losses.bce(self.discriminator(torch.cat([source, fake], 1)), 1.0)
        g_l1 = F.l1_loss(fake, target) * self.config.l1_weight
        optimizer = self.optimizers["generator"]
        optimizer.zero_grad(set_to_none=True)
        (g_gan + g_l1).backward()
        grad_norm_g = total_grad_norm(self.generator)
        optimizer.step()
        freeze(self.discriminator, False)
        self.update_ema()
        return {
            "G_GAN": g_gan.detach(), "G_L1": g_l1.detach(), "D_real": d_real.detach(), "D_fake": d_fake.detach(),
            "grad_norm_D": grad_norm_d, "grad_norm_G": grad_norm_g,
        }

    def preview_rows(self) -> list[torch.Tensor]:
        """Input, output, target per row; batch norm uses the batch's statistics, as the official test does."""
        generator = self.sampling_generator()
        with batch_statistics(generator):
            output = generator(self.preview_a)
        return [self.preview_a, output, self.preview_b]


SPEC = VariantSpec(
    name="pix2pix",
    title="pix2pix",
    summary="Paired image-to-image translation: a U-Net maps A to B, a PatchGAN judges (input, output) "
            "pairs, and an L1 term keeps the output close to the target.",
    objective=r"\begin{aligned}\min_G\max_D\;&\mathbb{E}_{x,y}[\log D(x,y)]\\&+ \mathbb{E}_{x}[\log(1-D(x,G(x)))]\\"
              r"&+ \lambda\,\mathbb{E}_{x,y}\|y-G(x)\|_1,\quad\lambda=100\end{aligned}",
    paper="Isola et al., 2017 — Image-to-Image Translation with Conditional Adversarial Networks",
    model_class=Pix2Pix,
    defaults={"dataset": "photo2sketch_paired", "image_size": 64, "width": 16, "batch_size": 8, "lr_g": 2e-4,
              "lr_d": 2e-4, "beta1": 0.5, "l1_weight": 100.0, "steps": 2000},
    settings=(OPTIMISER, NETWORKS, SettingGroup("Translation", ("l1_weight", "keep_lightness", "chroma_downsample"))),
    sample_kind=IMAGE_PAIRS,
    data="aligned_image_pairs",
    page="/translate",
    preview_columns=("input (A)", "output G(A)", "target (B)"),
)
