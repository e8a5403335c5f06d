"""The in-memory dataset type, the on-device batch sampler, pixel ranges and image files.

Training data is small enough (digits, MNIST-sized sets, a user's folder) to keep whole as uint8 on
the training device. Batches are then one indexing operation and one conversion to float, with no
per-sample Python or PIL work inside the loop.

Every loader imports this module; only `gan_core.data.catalogue` imports the loaders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
"""File endings read as images, by folders and zip uploads alike (compared in lower case)."""


@dataclass
class ImageDataset:
    """Images as uint8 (N, C, H, W) with optional int64 labels, split into train and held-out parts."""

    name: str
    images: torch.Tensor
    labels: torch.Tensor | None
    class_names: list[str]
    test_images: torch.Tensor
    test_labels: torch.Tensor | None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def __len__(self) -> int:
        return self.images.shape[0]


def to_unit_range(images_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] → float [-1, 1], the range a Tanh generator produces."""
    return images_uint8.float().div_(127.5).sub_(1.0)


def from_unit_range(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] → float [0, 1] for display and saving."""
    return images.add(1.0).mul_(0.5).clamp_(0.0, 1.0)


class BatchSampler:
    """Draws random batches from a dataset kept on the device.

    It uses the global torch RNG of the device's generator so that a run's RNG state (saved with
    the checkpoint) fully decides the batches that come next: resuming continues the same sequence.
    Under torchrun every rank seeds that RNG differently (`gan_core.training.distributed.World.seed`), so the
    ranks' batches together are batch_size × processes independent draws, with no index sharding needed.
    """

    def __init__(self, dataset: ImageDataset, batch_size: int, device: torch.device) -> None:
        self.images = dataset.images.to(device)
        self.labels = dataset.labels.to(device) if dataset.labels is not None else None
        self.batch_size = batch_size
        self.device = device

    def __call__(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        index = torch.randint(0, self.images.shape[0], (self.batch_size,), device=self.device)
        images = to_unit_range(self.images.index_select(0, index))
        labels = self.labels.index_select(0, index) if self.labels is not None else None
        return images, labels


def image_files(folder: Path) -> list[Path]:
    """The image files directly in `folder`, by name; none when it is not a folder."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def stratified_split(labels: np.ndarray, held_out_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted training and held-out row indices: the same share of every class held out, the same rows every time.

    Metrics compare generated digits with real ones the generator never saw, class by class, so each class
    is held out in proportion.
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        rng.shuffle(members)
        cut = int(round(len(members) * held_out_fraction))
        test.extend(members[:cut])
        train.extend(members[cut:])
    return np.sort(np.array(train, dtype=np.int64)), np.sort(np.array(test, dtype=np.int64))


def labelled_split(name: str, images: torch.Tensor, labels: torch.Tensor, train: np.ndarray,
                   test: np.ndarray) -> ImageDataset:
    """A digit-like dataset (classes named by their numbers) split into its training and held-out rows."""
    return ImageDataset(name=name, images=images[train], labels=labels[train],
                        class_names=[str(label) for label in range(int(labels.max()) + 1)],
                        test_images=images[test], test_labels=labels[test])


@dataclass
class DatasetInfo:
    """What a generator needs to know about the data it was trained on, to be rebuilt from its checkpoint.

    Images fill `image_shape` and `class_names`; other kinds of data leave the shape empty and describe
    themselves in `details` (JSON-ready: a ranking model's user and item counts, a text model's vocabulary
    and length). The model class writes and reads its own details (`GanModel.describe_data`).
    """

    name: str
    image_shape: tuple[int, ...] | None = None
    class_names: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
