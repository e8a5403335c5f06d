"""The common case of a noise-to-image GAN, written once with small hooks.

Conditioning, extra loss terms, weight clipping and the gradient penalty are hooks, so each paper's variant
states only what it changes. The setting groups below are what these variants read, shared by their specs.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from gan_core import losses
from gan_core.augment import POLICIES, augment
from gan_core.config import FieldRule, SettingGroup, TrainConfig
from gan_core.errors import ConfigError
from gan_core.latent import LatentLayout
from gan_core.variants.base import BatchSource, GanModel, total_grad_norm

OPTIMISER = SettingGroup("Optimiser", ("optimizer", "lr_g", "lr_d", "beta1", "beta2", "n_critic", "lr_decay_start"))
NETWORKS = SettingGroup("Networks", ("noise_dim", "width"))
OBJECTIVE_FIELDS = ("objective", "label_smoothing", "spectral_norm", "ema_decay")
"""Objective settings every noise-to-image variant reads; a critic without batch norm adds gp_weight, WGAN weight_clip."""


def objective_group(*more: str) -> SettingGroup:
    return SettingGroup("Objective", (*OBJECTIVE_FIELDS, *more))


AUGMENT_RULE = FieldRule(
    str, choices=POLICIES, default="none",
    help="DiffAugment (Zhao et al. 2020): D sees real and generated images through the same random shifts "
         "and/or cutouts, so it cannot learn a small training set by heart; none is the paper's loss")
"""The setting of differentiable augmentation, for the variants that declare it among their own settings."""


STANDING_STATISTICS_SEED = 20_240_601


@torch.no_grad()
def measure_standing_statistics(generator: nn.Module, draw_batch, batches: int = 16,
                                seed: int = STANDING_STATISTICS_SEED) -> None:
    """In place: the running statistics of `generator`'s batch norms that are in training mode become the cumulative
    mean and variance over `batches` calls of `draw_batch(rng)` (one forward pass each, from a CPU generator seeded
    with `seed`). Norms in eval mode (frozen parts) keep theirs."""
    norms = [m for m in generator.modules()
             if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats and m.training]
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over all calibration batches
    rng = torch.Generator(device="cpu").manual_seed(seed)
    for _ in range(batches):
        draw_batch(rng)
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum


def with_standing_statistics(
    generator: nn.Module, layout: LatentLayout, batches: int = 16, batch_size: int = 64
) -> nn.Module:
    """A copy of `generator` whose batch-norm running statistics are averaged over its own outputs.

    An averaged (EMA) generator has never run forward in training mode, so statistics copied from
    the live generator do not match its weights; BigGAN's "standing statistics" fix this by running
    the generator on many latent batches and keeping the cumulative mean and variance.
    """
    if not any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats for m in generator.modules()):
        return generator
    calibrated = copy.deepcopy(generator).train()
    device = next(calibrated.parameters()).device

    def draw_batch(rng: torch.Generator) -> None:
        parts = {k: v.to(device) for k, v in layout.sample_parts(batch_size, torch.device("cpu"), rng).items()}
        calibrated(layout.compose(**parts))

    measure_standing_statistics(calibrated, draw_batch, batches)
    return calibrated.train(generator.training)


class AdversarialImageGan(GanModel):
    """Noise → image with the standard alternating updates, parameterised by hooks.

    One call of `train_step` is one generator update preceded by `n_critic` discriminator updates,
    each on a fresh real batch (as WGAN's algorithm states).
    """

    def __init__(self, config: TrainConfig, image_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__(config, image_shape, num_classes)
        if config.gp_weight > 0 and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in self.discriminator.modules()):
            raise ConfigError(
                f"{config.variant}'s discriminator uses batch norm, which mixes the samples of a batch, so a gradient "
                "penalty (computed per sample) does not apply to it; set gp_weight to 0, or use wgan_gp, whose critic "
                "has layer norm instead")

    def fake_inputs(self, batch_size: int, device: torch.device) -> dict[str, torch.Tensor]:
        """Random latent parts for fakes; conditional variants draw labels uniformly over classes."""
        return self.layout.sample_parts(batch_size, device)

    def condition(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        """Extra input planes for the discriminator (CGAN's label maps); None for most variants."""
        return None

    def discriminator_extra(
        self, real_out: dict[str, torch.Tensor], fake_out: dict[str, torch.Tensor],
        real_labels: torch.Tensor | None, fake_parts: dict[str, torch.Tensor],
    ) -> dict[str, torch.Tensor]:
        """Extra named loss terms for the discriminator (ACGAN's classes, InfoGAN's Q)."""
        return {}

    def discriminator_real_extra(self, real: torch.Tensor, labels: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Extra named loss terms for the discriminator that need the real images themselves (CGAN's
        real images shown with wrong labels)."""
        return {}

    def generator_extra(self, fake_out: dict[str, torch.Tensor], fake_parts: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Extra named loss terms for the generator."""
        return {}

    def after_discriminator_step(self) -> None:
        """WGAN clips the critic's weights here."""

    def seen_by_discriminator(self, images: torch.Tensor) -> torch.Tensor:
        """`images` as D is shown them: through the `augment` policy (gan_core.augment), real and fake alike."""
        return augment(images, str(self.config.extra.get("augment", AUGMENT_RULE.default)))

    def sampling_generator(self) -> nn.Module:
        """The EMA generator, when enabled, gets batch-norm statistics of its own ("standing statistics").

        They are measured on a copy, from a fixed-seed latent sample, so sampling never changes the
        training state and a resumed run stays identical to one never stopped.
        """
        if self.ema_generator is None:
            return self.generator
        return with_standing_statistics(self.ema_generator, self.layout)

    def _fake_labels(self, parts: dict[str, torch.Tensor]) -> torch.Tensor | None:
        return parts.get("labels")

    def discriminator_step(
        self, real: torch.Tensor, labels: torch.Tensor | None, fake: torch.Tensor, parts: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        """One update of D on a real batch and a (detached) fake batch made from `parts`."""
        c = self.config
        real, fake = self.seen_by_discriminator(real), self.seen_by_discriminator(fake)
        real_condition = self.condition(labels)
        real_out = self.discriminator(real, real_condition)
        fake_out = self.discriminator(fake, self.condition(self._fake_labels(parts)))
        terms = losses.discriminator_terms(c.objective, real_out["adv"], fake_out["adv"], c.label_smoothing)
        if c.gp_weight > 0:
            terms["GP"] = c.gp_weight * losses.gradient_penalty(
                lambda x: self.discriminator(x, real_condition)["adv"], real, fake
            )
        terms.update(self.discriminator_extra(real_out, fake_out, labels, parts))
        terms.update(self.discriminator_real_extra(real, labels))
        optimizer = self.optimizers["discriminator"]
        optimizer.zero_grad(set_to_none=True)
        torch.stack(list(terms.values())).sum().backward()
        grad_norm = total_grad_norm(self.discriminator)
        optimizer.step()
        self.after_discriminator_step()
        logs = {name: value.detach() for name, value in terms.items()}
        logs["D(x)"] = losses.probabilities(c.objective, real_out["adv"].detach())
        logs["D(G(z))"] = losses.probabilities(c.objective, fake_out["adv"].detach())
        if c.objective in ("wasserstein", "hinge"):
            logs["W_dist"] = (real_out["adv"].mean() - fake_out["adv"].mean()).detach()
        logs["grad_norm_D"] = grad_norm
        return logs

    def generator_step(self, fake: torch.Tensor, parts: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """One update of G through D's verdict on `fake` (still attached to G's graph).

        D's weights are frozen meanwhile: their gradients would be discarded anyway, so this only
        skips computing them.
        """
        self.discriminator.requires_grad_(False)
        fake_out = self.discriminator(self.seen_by_discriminator(fake), self.condition(self._fake_labels(parts)))
        terms = {"G_GAN": losses.generator_loss(self.config.objective, fake_out["adv"])}
        terms.update(self.generator_extra(fake_out, parts))
        optimizer = self.optimizers["generator"]
        optimizer.zero_grad(set_to_none=True)
        torch.stack(list(terms.values())).sum().backward()
        self.discriminator.requires_grad_(True)
        grad_norm = total_grad_norm(self.generator)
        optimizer.step()
        logs = {name: value.detach() for name, value in terms.items()}
        logs["grad_norm_G"] = grad_norm
        return logs

    def make_fakes(self, batch_size: int, device: torch.device, attached: bool) -> tuple[torch.Tensor, dict]:
        """Fresh latent parts and G's images of them, with G's graph kept only when `attached`."""
        parts = self.fake_inputs(batch_size, device)
        with torch.set_grad_enabled(attached):
            return self.generator(self.layout.compose(**parts)), parts

    def train_step(self, next_batch: BatchSource) -> dict[str, torch.Tensor]:
        """With one D step, G's update reuses that step's fakes (as the DCGAN reference code does),
        which saves a generator forward; with several (WGAN's n_critic), G draws fresh ones, as
        WGAN's algorithm states."""
        reuse = self.config.n_critic == 1
        for _ in range(self.config.n_critic):
            real, labels = next_batch()
            fake, parts = self.make_fakes(real.shape[0], real.device, attached=reuse)
            logs = self.discriminator_step(real, labels, fake.detach(), parts)
        if not reuse:
            fake, parts = self.make_fakes(real.shape[0], real.device, attached=True)
        logs.update(self.generator_step(fake, parts))
        self.update_ema()
        return logs
