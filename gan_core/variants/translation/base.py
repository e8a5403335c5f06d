"""What pix2pix and CycleGAN share: (A, B) batches, no latent layout, fixed held-out previews.

Previews use the first held-out images, chosen without drawing random numbers, so saving a sample
grid never shifts the RNG stream and a resumed run stays identical to an uninterrupted one.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_core.config import SettingGroup, TrainConfig
from gan_core.data.paired import PairBatchSource, PairedDataset
from gan_core.data.types import ImageDataset, to_unit_range
from gan_core.errors import ConfigError, DatasetUnavailableError
from gan_core.nets.image_to_image import GeneratorArch
from gan_core.nets.init import normal_init_
from gan_core.variants.base import BatchSource, GanModel

PREVIEW_ROWS = 6
OPTIMISER = SettingGroup("Optimiser", ("optimizer", "lr_g", "lr_d", "beta1", "beta2", "lr_decay_start"))
NETWORKS = SettingGroup("Networks", ("width", "ema_decay"))


class ImageToImageGan(GanModel):
    """Base of the translators: they read `PairedDataset`s and have no noise input."""

    needs_aligned_pairs = False
    weight_init = staticmethod(normal_init_)  # the official code's default init_type='normal', gain 0.02

    @classmethod
    def latent_layout(cls, config: TrainConfig, num_classes: int) -> None:  # type: ignore[override]
        return None

    @classmethod
    def generator_arch(cls, config: TrainConfig, image_shape: tuple[int, int, int]) -> GeneratorArch:
        """The architecture of one generator, as a picture meets it: what translation needs, known from the config."""
        raise NotImplementedError

    def batch_source(self, dataset: ImageDataset, batch_size: int, device: torch.device) -> BatchSource:
        if not isinstance(dataset, PairedDataset):
            raise DatasetUnavailableError(
                f"{self.config.variant} translates images and needs an image-to-image dataset "
                "(photo2sketch_paired, gray2color, photo2sketch or translation_folder); "
                f"{dataset.name!r} has only one domain")
        return PairBatchSource(dataset, batch_size, device, aligned=self.needs_aligned_pairs)

    def setup_preview(self, dataset: ImageDataset, device: torch.device, seed: int) -> None:
        if not isinstance(dataset, PairedDataset):
            raise DatasetUnavailableError(f"{dataset.name!r} is not an image-to-image dataset")
        rows = min(PREVIEW_ROWS, dataset.test_images.shape[0], dataset.test_targets.shape[0])
        self.preview_a = to_unit_range(dataset.test_images[:rows].to(device))
        self.preview_b = to_unit_range(dataset.test_targets[:rows].to(device))

    def preview_rows(self) -> list[torch.Tensor]:
        """The columns of the preview grid, each (rows, C, H, W); subclasses say what they show."""
        raise NotImplementedError

    @torch.inference_mode()
    def preview(self) -> tuple[torch.Tensor, int]:
        generator = self.sampling_generator()
        was_training = generator.training
        generator.eval()
        try:
            columns = self.preview_rows()
        finally:
            generator.train(was_training)
        return torch.stack(columns, 1).flatten(0, 1), len(columns)


def unet_depth(image_size: int) -> int:
    """Downsamplings for a U-Net on image_size squares: as many as divide it, at most 8 (unet_256)."""
    depth = 0
    while depth < 8 and image_size % 2 ** (depth + 1) == 0:
        depth += 1
    if depth < 5:
        raise ConfigError(f"Image size must be a multiple of 32 for the pix2pix U-Net; got {image_size}",
                          field="image_size")
    return depth


def resnet_blocks(config: TrainConfig) -> int:
    """CycleGAN's residual block count: `extra['n_blocks']`, else 9 from 256 pixels and 6 below (as official)."""
    value = config.extra.get("n_blocks", 9 if config.image_size >= 256 else 6)
    if not isinstance(value, int) or not 0 <= value <= 32:
        raise ConfigError(f"extra n_blocks must be an integer in [0, 32]; got {value!r}")
    if config.image_size % 4:
        raise ConfigError(f"Image size must be a multiple of 4 for the ResNet generator; got {config.image_size}",
                          field="image_size")
    return value


def freeze(module: nn.Module, frozen: bool) -> None:
    """Stop (or restart) gradients into a network while the other player is updated."""
    module.requires_grad_(not frozen)

