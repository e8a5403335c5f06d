"""MNIST-family sets and CIFAR-10 through torchvision: downloaded when online, clear message offline.

The whole set is converted once to a uint8 tensor, so training never touches PIL.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from gan_core.data.downloads import require_cached_or_reachable
from gan_core.data.resize import resize_uint8
from gan_core.data.types import ImageDataset
from gan_core.errors import DatasetUnavailableError

DESCRIPTIONS = {
    "mnist": "MNIST handwritten digits (torchvision; downloads when online)",
    "fashion_mnist": "Fashion-MNIST clothing (torchvision; downloads when online)",
    "kmnist": "Kuzushiji-MNIST (torchvision; downloads when online)",
    "cifar10": "CIFAR-10 colour photos (torchvision; downloads when online)",
}

_CLASSES = {
    "mnist": "MNIST",
    "fashion_mnist": "FashionMNIST",
    "kmnist": "KMNIST",
    "cifar10": "CIFAR10",
}


def default_root() -> Path:
    """Where downloaded datasets live unless the user names a folder."""
    return Path(os.environ.get("GAN_STUDIO_DATA", Path.home() / ".cache" / "gan_studio" / "datasets"))


def _as_uint8_nchw(data) -> torch.Tensor:
    array = data.numpy() if isinstance(data, torch.Tensor) else np.asarray(data)
    if array.ndim == 3:  # MNIST family: (N, H, W)
        array = array[:, None]
    else:  # CIFAR: (N, H, W, C)
        array = array.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.uint8))


def _open(name: str, root: Path, train: bool):
    import torchvision.datasets as tv

    cls = getattr(tv, _CLASSES[name])
    try:
        return cls(str(root), train=train, download=False)
    except (RuntimeError, FileNotFoundError):
        pass
    try:
        return cls(str(root), train=train, download=True)
    except Exception as error:  # network failures come in many types (URLError, OSError, ...)
        raise DatasetUnavailableError(
            f"dataset {name!r} is not in {root} and could not be downloaded ({type(error).__name__}); "
            "connect to the internet, put the files there, or use the embedded 'mnist_5k' dataset (5,000 real MNIST digits)"
        ) from None


def _is_cached(name: str, root: Path) -> bool:
    import torchvision.datasets as tv

    cls = getattr(tv, _CLASSES[name])
    try:
        cls(str(root), train=True, download=False)
        cls(str(root), train=False, download=False)
        return True
    except (RuntimeError, FileNotFoundError):
        return False


def _first_url(name: str) -> str:
    import torchvision.datasets as tv

    cls = getattr(tv, _CLASSES[name])
    if getattr(cls, "url", None):  # CIFAR-10: one archive
        return cls.url
    return cls.mirrors[0] + cls.resources[0][0]  # the MNIST family: files on mirrors


def download_check_for(name: str) -> Callable[[str | None], None]:
    """The Start-time check of `name`: on disk under the root, or its first mirror reachable."""
    def check(root: str | None) -> None:
        base = Path(root) if root else default_root()
        require_cached_or_reachable(name, _is_cached(name, base), _first_url(name), f"looked in {base}",
                                    "choose the embedded 'mnist_5k' dataset (5,000 real MNIST digits)")

    return check


def load_torchvision(name: str, image_size: int, root: str | None = None) -> ImageDataset:
    base = Path(root) if root else default_root()
    train_set = _open(name, base, train=True)
    test_set = _open(name, base, train=False)
    train_images = resize_uint8(_as_uint8_nchw(train_set.data), image_size)
    test_images = resize_uint8(_as_uint8_nchw(test_set.data), image_size)
    return ImageDataset(
        name=name,
        images=train_images,
        labels=torch.as_tensor(np.asarray(train_set.targets), dtype=torch.int64),
        class_names=[str(c) for c in train_set.classes],
        test_images=test_images,
        test_labels=torch.as_tensor(np.asarray(test_set.targets), dtype=torch.int64),
    )


def loader_for(name: str) -> Callable[[int, str | None], ImageDataset]:
    def load(image_size: int, root: str | None = None) -> ImageDataset:
        return load_torchvision(name, image_size, root)

    return load
