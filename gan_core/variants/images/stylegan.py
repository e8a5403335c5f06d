"""StyleGAN (Karras, Laine & Aila 2019) with StyleGAN2's generator convolution (Karras et al. 2020).

A mapping network z → w, a synthesis network from a learned constant driven by one style per layer
(modulated, demodulated convolutions: see `gan_core.nets.style`), per-layer noise, style-mixing
regularisation, the tracked mean w for truncation, the non-saturating loss, lazy R1 on real images and
an EMA generator. What the networks are is in `gan_core.nets.style`; this module is the training step.

Left out, as optional parts of the papers: StyleGAN2's path-length regulariser and progressive growing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.config import FieldRule, SettingGroup, TrainConfig
from gan_core.nets.style import StyleDiscriminator, StyleGenerator, broadcast
from gan_core.registry import VariantSpec
from gan_core.variants.base import BatchSource, GanModel, total_grad_norm

STYLE_SETTINGS = {
    "mapping_layers": FieldRule(int, 1, 8, default=4, help="StyleGAN: fully connected layers of the mapping network "
                                "z → w (the paper: 8; 4 here, for a CPU and 32×32 digits)"),
    "style_mixing": FieldRule(float, 0.0, 1.0, default=0.9, help="StyleGAN: share of batches drawn with two w's "
                              "that swap at a random layer (style-mixing regularisation; the paper: 0.9)"),
    "r1_gamma": FieldRule(float, 0.0, 100.0, default=0.01, help="StyleGAN: weight γ of the R1 penalty "
                          "γ/2·‖∇D(x)‖² on real images (StyleGAN2-ADA's CIFAR-10 value; 10 for FFHQ at 1024²)"),
    "r1_interval": FieldRule(int, 1, 1000, default=16, help="StyleGAN: R1 is computed every this many steps "
                             "(lazy regularisation), scaled up by the same factor (the paper: 16)"),
}


class StyleGAN(GanModel):
    """Non-saturating GAN with a style-based generator, style mixing and lazy R1 on the discriminator."""

    @classmethod
    def setting(cls, config: TrainConfig, name: str):
        return config.extra.get(name, STYLE_SETTINGS[name].default)

    @classmethod
    def build_generator(cls, config: TrainConfig, image_shape, num_classes) -> nn.Module:
        channels, size, _ = image_shape
        return StyleGenerator(config.noise_dim, config.noise_dim, cls.setting(config, "mapping_layers"),
                              channels, size, config.width)

    @classmethod
    def build_discriminator(cls, config: TrainConfig, image_shape, num_classes) -> nn.Module:
        return StyleDiscriminator(image_shape[0], image_shape[1], config.width)

    def __init__(self, config: TrainConfig, image_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__(config, image_shape, num_classes)
        # The last R1 value measured, logged at every step in between so the curve has no gaps.
        self.register_buffer("last_r1", torch.zeros(()))

    def lazy_r1_factor(self) -> float:
        """StyleGAN2's c = k / (k + 1) for R1 every k steps: D's rate and betas are adjusted by it."""
        interval = self.setting(self.config, "r1_interval")
        return interval / (interval + 1) if self.setting(self.config, "r1_gamma") > 0 else 1.0

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam for both; D's rate and betas are adjusted for lazy R1 (`lazy_r1_factor`)."""
        c = self.config
        lazy = self.lazy_r1_factor()
        return {
            "generator": torch.optim.Adam(self.generator.parameters(), lr=c.lr_g, betas=(c.beta1, c.beta2)),
            "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=c.lr_d * lazy,
                                              betas=(c.beta1**lazy, c.beta2**lazy)),
        }

    def base_learning_rates(self) -> dict[str, float]:
        """The rates `configure_optimizers` sets, so a learning-rate decay keeps D's lazy-R1 factor."""
        return {"generator": self.config.lr_g, "discriminator": self.config.lr_d * self.lazy_r1_factor()}

    def mixed_ws(self, batch_size: int, device: torch.device, update_w_avg: bool) -> torch.Tensor:
        """Per-layer w's for a fresh batch: with probability `style_mixing` a second w takes over from a random layer."""
        generator: nn.Module = self.generator
        num_ws = generator.num_ws
        w = generator.mapping(torch.randn(batch_size, self.config.noise_dim, device=device), update_w_avg)
        ws = broadcast(w, num_ws)
        if torch.rand(()) < self.setting(self.config, "style_mixing"):
            crossover = int(torch.randint(1, num_ws, ()))
            other = generator.mapping(torch.randn(batch_size, self.config.noise_dim, device=device))
            layer = torch.arange(num_ws, device=device)[None, :, None]
            ws = torch.where(layer < crossover, ws, broadcast(other, num_ws))
        return ws

    def fakes(self, batch_size: int, device: torch.device, attached: bool) -> torch.Tensor:
        with torch.set_grad_enabled(attached):
            return self.generator.synthesize(self.mixed_ws(batch_size, device, update_w_avg=attached), "random")

    def r1_penalty(self, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """D's scores on `real` and ‖∇ₓD(x)‖² per sample, averaged; in float32, as a gradient is."""
        with torch.autocast(real.device.type, enabled=False):
            real = real.detach().float().requires_grad_(True)
            scores = self.discriminator(real)["adv"]
            (gradient,) = torch.autograd.grad(scores.sum(), real, create_graph=True)
        return scores, gradient.square().sum(dim=(1, 2, 3)).mean()

    def discriminator_step(self, real: torch.Tensor) -> dict[str, torch.Tensor]:
        gamma = self.setting(self.config, "r1_gamma")
        interval = self.setting(self.config, "r1_interval")
        fake = self.fakes(real.shape[0], real.device, attached=False)
        fake_scores = self.discriminator(fake)["adv"]
        terms: dict[str, torch.Tensor] = {}
        if gamma > 0 and self.steps_done % interval == 0:
            real_scores, penalty = self.r1_penalty(real)
            self.last_r1.copy_(penalty.detach())
            regulariser = penalty * (gamma / 2) * interval
        else:
            real_scores = self.discriminator(real)["adv"]
            regulariser = None
        terms["D_real"] = F.softplus(-real_scores.float()).mean()
        terms["D_fake"] = F.softplus(fake_scores.float()).mean()
        total = terms["D_real"] + terms["D_fake"]
        if regulariser is not None:
            total = total + regulariser
        optimizer = self.optimizers["discriminator"]
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        grad_norm = total_grad_norm(self.discriminator)
        optimizer.step()
        logs = {name: value.detach() for name, value in terms.items()}
        logs["R1"] = self.last_r1.clone()  # ‖∇D(x)‖² on reals, the last lazily measured value
        logs["D(x)"] = torch.sigmoid(real_scores.detach().float()).mean()
        logs["D(G(z))"] = torch.sigmoid(fake_scores.detach().float()).mean()
        logs["grad_norm_D"] = grad_norm
        return logs

    def generator_step(self, batch_size: int, device: torch.device) -> dict[str, torch.Tensor]:
        self.discriminator.requires_grad_(False)
        fake = self.fakes(batch_size, device, attached=True)
        loss = F.softplus(-self.discriminator(fake)["adv"].float()).mean()  # -log D(G(z)): non-saturating
        optimizer = self.optimizers["generator"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.discriminator.requires_grad_(True)
        grad_norm = total_grad_norm(self.generator)
        optimizer.step()
        return {"G_GAN": loss.detach(), "grad_norm_G": grad_norm}

    def train_step(self, next_batch: BatchSource) -> dict[str, torch.Tensor]:
        real, _ = next_batch()
        logs = self.discriminator_step(real)
        logs.update(self.generator_step(real.shape[0], real.device))
        self.update_ema()
        return logs


SPEC = VariantSpec(
    name="stylegan",
    title="StyleGAN",
    summary="Style-based generator: a mapping network to w, one style per layer from a learned constant, per-layer "
            "noise, style mixing and truncation towards the mean w.",
    objective=r"\begin{aligned}&\max_D \; \mathbb{E}_x[\log D(x)] + \mathbb{E}_z[\log(1 - D(G(z)))]\\"
              r"&\qquad - \tfrac{\gamma}{2}\,\mathbb{E}_x\|\nabla_x D(x)\|^2\\"
              r"&G \text{ minimises } -\log D(G(z))\\"
              r"&G(z) = g(w_1, \dots, w_L),\; w = f(z)\end{aligned}",
    paper="Karras, Laine & Aila, 2019 — A Style-Based Generator Architecture for GANs (StyleGAN2's "
          "modulated convolution, Karras et al. 2020)",
    settings=(
        SettingGroup("Optimiser", ("lr_g", "lr_d", "beta1", "beta2", "lr_decay_start")),
        SettingGroup("Objective", ("ema_decay", "r1_gamma", "r1_interval", "style_mixing")),
        SettingGroup("Networks", ("noise_dim", "width", "mapping_layers")),
    ),
    model_class=StyleGAN,
    own_settings=STYLE_SETTINGS,
    # StyleGAN2's Adam (lr 0.0025, β = (0, 0.99)); z and w of 64 dimensions and width 16 (64 channels at 4²-8²,
    # 32 at 16², 16 at 32²) instead of 512, so it trains on a shared CPU core.
    defaults={"lr_g": 0.0025, "lr_d": 0.0025, "beta1": 0.0, "beta2": 0.99, "ema_decay": 0.998,
              "noise_dim": 64, "width": 16, "batch_size": 32, "steps": 2000},
    page="/style",
)
