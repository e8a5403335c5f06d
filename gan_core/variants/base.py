"""What every variant is: networks, optimizers and one training step that returns named scalars.

`GanModel` is the contract the trainer relies on. The kinds of variant build on it in their
sub-packages: `images.adversarial.AdversarialImageGan` (noise to image) and `translation.base.ImageToImageGan`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from gan_core.config import TrainConfig
from gan_core.data.types import BatchSampler, DatasetInfo, ImageDataset
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
    # How the trainer and `checkpoints.load_generator` build a model: from the data it trains on, and its
    # sampling network alone from the data's description in a checkpoint. Images are the default; a
    # variant for other data (ratings, token sequences) overrides these three and owns its own description.
    @classmethod
    def from_data(cls, config: TrainConfig, dataset: ImageDataset) -> GanModel:
        """The model for `dataset` (fresh weights; the trainer loads a resume state into it afterwards)."""
        return cls(config, dataset.image_shape, dataset.num_classes)

    @classmethod
    def describe_data(cls, dataset: ImageDataset) -> DatasetInfo:
        """What a checkpoint must hold about `dataset` to rebuild the sampling network."""
        return DatasetInfo(dataset.name, dataset.image_shape, list(dataset.class_names))

    @classmethod
    def generator_from_info(cls, config: TrainConfig, info: DatasetInfo) -> nn.Module:
        """The sampling network a checkpoint's weights fit, from its config and dataset description."""
        return cls.build_generator(config, info.image_shape, len(info.class_names))

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

    def base_learning_rates(self) -> dict[str, float]:
        """Each optimizer's learning rate before any decay: what `configure_optimizers` gives it."""
        return {"generator": self.config.lr_g, "discriminator": self.config.lr_d}

    def schedule_learning_rates(self, step: int) -> None:
        """Set each player's learning rate for the update after `step` (see `linear_decay`)."""
        if self.config.lr_decay_start >= 1.0:
            return
        factor = linear_decay(step, self.config.steps, self.config.lr_decay_start)
        base_rates = self.base_learning_rates()
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


def total_grad_norm(module: nn.Module) -> torch.Tensor:
    """L2 norm of all gradients of `module`, kept on the device (no host sync)."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.nn.utils.get_total_norm(grads)
