"""What every variant is: networks, optimizers and one training step that returns named scalars.

`GanModel` is the contract the trainer relies on. `AdversarialImageGan` is the common case, noise
to image with a generator and a discriminator, written once with small hooks (conditioning, extra
loss terms, weight clipping, gradient penalty) so each paper's variant states only what it changes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from gan_core import losses
from gan_core.config import TrainConfig
from gan_core.data.types import BatchSampler, ImageDataset
from gan_core.latent import LatentLayout
from gan_core.schedules import linear_decay

Batch = tuple[torch.Tensor, torch.Tensor | None]
BatchSource = Callable[[], Batch]


class GanModel(nn.Module):
    """A trainable GAN: all its networks as submodules, its optimizers, and `train_step`.

    Subclasses implement `build_generator` (a classmethod, so a checkpoint can rebuild the generator
    alone), `build_discriminator`, `latent_layout` and `train_step`.
    """

    # The paper's weight initialisation, applied to fresh networks (a checkpoint overwrites it anyway);
    # None keeps PyTorch's defaults.
    weight_init: Callable[[nn.Module], nn.Module] | None = None

    def __init__(self, config: TrainConfig, image_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__()
        self.config = config
        self.image_shape = tuple(image_shape)
        self.num_classes = num_classes
        self.layout = self.latent_layout(config, num_classes)
        self.generator = self.build_generator(config, self.image_shape, num_classes)
        self.discriminator = self.build_discriminator(config, self.image_shape, num_classes)
        if self.weight_init is not None:
            type(self).weight_init(self.generator)
            type(self).weight_init(self.discriminator)
        self.steps_done = 0  # set by the trainer before each update (`prepare_step`)
        self.ema_generator: nn.Module | None = None
        if config.ema_decay > 0:
            self.ema_generator = self.build_generator(config, self.image_shape, num_classes)
            self.ema_generator.load_state_dict(self.generator.state_dict())
            self.ema_generator.requires_grad_(False)

    # --- construction -------------------------------------------------------------------
    @classmethod
    def latent_layout(cls, config: TrainConfig, num_classes: int) -> LatentLayout:
        return LatentLayout(noise_dim=config.noise_dim)

    @classmethod
    def build_generator(cls, config: TrainConfig, image_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
        raise NotImplementedError

    @classmethod
    def build_discriminator(
        cls, config: TrainConfig, image_shape: tuple[int, int, int], num_classes: int
    ) -> nn.Module:
        raise NotImplementedError

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """One optimizer per player. RMSprop for WGAN as its paper asks, Adam otherwise."""
        c = self.config
        if c.optimizer == "rmsprop":
            return {
                "generator": torch.optim.RMSprop(self.generator.parameters(), lr=c.lr_g),
                "discriminator": torch.optim.RMSprop(self.discriminator.parameters(), lr=c.lr_d),
            }
        return {
            "generator": torch.optim.Adam(self.generator.parameters(), lr=c.lr_g, betas=(c.beta1, c.beta2)),
            "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=c.lr_d, betas=(c.beta1, c.beta2)),
        }

    def attach_optimizers(self, optimizers: dict[str, torch.optim.Optimizer]) -> None:
        self.optimizers = optimizers

    def prepare_step(self, step: int) -> None:
        """Called by the trainer before each update with the number of updates done so far.

        Learning rates and the EMA warm-up follow from the step alone, so a resumed run lands on
        the same values as one never stopped.
        """
        self.steps_done = step
        self.schedule_learning_rates(step)

    def schedule_learning_rates(self, step: int) -> None:
        """Set each player's learning rate for the update after `step` (see `linear_decay`)."""
        if self.config.lr_decay_start >= 1.0:
            return
        factor = linear_decay(step, self.config.steps, self.config.lr_decay_start)
        base_rates = {"generator": self.config.lr_g, "discriminator": self.config.lr_d}
        for name, optimizer in self.optimizers.items():
            for group in optimizer.param_groups:
                group["lr"] = base_rates[name] * factor

    def batch_source(self, dataset: ImageDataset, batch_size: int, device: torch.device) -> BatchSource:
        """Where training batches come from; image-to-image variants draw pairs instead."""
        return BatchSampler(dataset, batch_size, device)

    # --- training -----------------------------------------------------------------------
    def train_step(self, next_batch: BatchSource) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def setup_preview(self, dataset: ImageDataset, device: torch.device, seed: int) -> None:
        """Fix the inputs of the preview grid: one row per label or code value where there is one."""
        self.preview_inputs = self.layout.grid_parts(10, 10, seed, device)

    @torch.inference_mode()
    def preview(self) -> tuple[torch.Tensor, int]:
        """Preview images from the fixed inputs (in eval mode) and the grid's column count."""
        generator = self.sampling_generator()
        was_training = generator.training
        generator.eval()
        images = generator(self.layout.compose(**self.preview_inputs))
        generator.train(was_training)
        return images, 10

    def ema_decay_now(self) -> float:
        """The configured decay, warmed up as TensorFlow's ExponentialMovingAverage does:
        min(decay, (1 + t) / (10 + t)). Without it a 0.999 average would still hold 5% of the random
        initial weights after 3,000 steps."""
        return min(self.config.ema_decay, (1 + self.steps_done) / (10 + self.steps_done))

    @torch.no_grad()
    def update_ema(self) -> None:
        """Move the averaged weights towards the live ones; buffers are copied as they are.

        Copied batch-norm statistics belong to the live weights, not the averaged ones; noise-to-image
        variants therefore recompute them before sampling (`AdversarialImageGan.sampling_generator`).
        """
        if self.ema_generator is None:
            return
        ema_params = list(self.ema_generator.parameters())
        torch._foreach_lerp_(ema_params, list(self.generator.parameters()), 1.0 - self.ema_decay_now())
        for ema_buffer, buffer in zip(self.ema_generator.buffers(), self.generator.buffers()):
            ema_buffer.copy_(buffer)

    def sampling_generator(self) -> nn.Module:
        """The generator to sample and save: the EMA copy when enabled, else the trained one."""
        return self.ema_generator if self.ema_generator is not None else self.generator


STANDING_STATISTICS_SEED = 20_240_601


@torch.no_grad()
def with_standing_statistics(
    generator: nn.Module, layout: LatentLayout, batches: int = 16, batch_size: int = 64
) -> nn.Module:
    """A copy of `generator` whose batch-norm running statistics are averaged over its own outputs.

    An averaged (EMA) generator has never run forward in training mode, so statistics copied from
    the live generator do not match its weights; BigGAN's "standing statistics" fix this by running
    the generator on many latent batches and keeping the cumulative mean and variance.
    """
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    if not norms:
        return generator
    calibrated = copy.deepcopy(generator)
    calibrated_norms = [m for m in calibrated.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
                        and m.track_running_stats]
    for norm in calibrated_norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over all calibration batches
    device = next(calibrated.parameters()).device
    rng = torch.Generator(device="cpu").manual_seed(STANDING_STATISTICS_SEED)
    calibrated.train()
    for _ in range(batches):
        parts = {k: v.to(device) for k, v in layout.sample_parts(batch_size, torch.device("cpu"), rng).items()}
        calibrated(layout.compose(**parts))
    for norm, original in zip(calibrated_norms, norms):
        norm.momentum = original.momentum
    calibrated.train(generator.training)
    return calibrated


def total_grad_norm(module: nn.Module) -> torch.Tensor:
    """L2 norm of all gradients of `module`, kept on the device (no host sync)."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.nn.utils.get_total_norm(grads)


class AdversarialImageGan(GanModel):
    """Noise → image with the standard alternating updates, parameterised by hooks.

    One call of `train_step` is one generator update preceded by `n_critic` discriminator updates,
    each on a fresh real batch (as WGAN's algorithm states).
    """

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

    def generator_extra(self, fake_out: dict[str, torch.Tensor], fake_parts: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Extra named loss terms for the generator."""
        return {}

    def after_discriminator_step(self) -> None:
        """WGAN clips the critic's weights here."""

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
        real_condition = self.condition(labels)
        real_out = self.discriminator(real, real_condition)
        fake_out = self.discriminator(fake, self.condition(self._fake_labels(parts)))
        terms = losses.discriminator_terms(c.objective, real_out["adv"], fake_out["adv"], c.label_smoothing)
        if c.gp_weight > 0:
            terms["GP"] = c.gp_weight * losses.gradient_penalty(
                lambda x: self.discriminator(x, real_condition)["adv"], real, fake
            )
        terms.update(self.discriminator_extra(real_out, fake_out, labels, parts))
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
        fake_out = self.discriminator(fake, self.condition(self._fake_labels(parts)))
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
