"""A user's own images: a flat folder (unlabelled) or one subfolder per class (labelled).

Each image is decoded once at load time, converted to RGB (or L when every image is grayscale),
centre-cropped to a square and resized; a small fixed share is held out for evaluation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_core.data.resize import center_crop_square, resize_uint8
from gan_core.data.types import IMAGE_SUFFIXES, ImageDataset, image_files
from gan_core.errors import DatasetUnavailableError

MIN_IMAGES = 8
HELD_OUT_FRACTION = 0.1


def _decode(path: Path, image_size: int, grayscale: bool) -> torch.Tensor | None:
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            image = image.convert("L" if grayscale else "RGB")
            array = np.asarray(image, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    tensor = torch.from_numpy(array.copy())
    tensor = tensor[None] if tensor.ndim == 2 else tensor.permute(2, 0, 1)
    return resize_uint8(center_crop_square(tensor)[None], image_size)[0]


def _is_grayscale(paths: list[Path]) -> bool:
    for path in paths[:64]:
        try:
            with Image.open(path) as image:
                if image.mode not in ("L", "1", "I;16", "I"):
                    return False
        except (UnidentifiedImageError, OSError):
            continue
    return True


def load_folder(image_size: int, root: str | None = None) -> ImageDataset:
    if not root:
        raise DatasetUnavailableError("the 'folder' dataset needs data_root: the folder that holds your images")
    folder = Path(root)
    if not folder.is_dir():
        raise DatasetUnavailableError(f"image folder {folder} does not exist")
    class_dirs = sorted(p for p in folder.iterdir() if p.is_dir() and image_files(p))
    if class_dirs:
        groups = [(d.name, image_files(d)) for d in class_dirs]
    else:
        groups = [("images", image_files(folder))]
    all_paths = [p for _, paths in groups for p in paths]
    grayscale = _is_grayscale(all_paths)
    images, labels = [], []
    for label, (_, paths) in enumerate(groups):
        for path in paths:
            decoded = _decode(path, image_size, grayscale)
            if decoded is not None:
                images.append(decoded)
                labels.append(label)
    if len(images) < MIN_IMAGES:
        raise DatasetUnavailableError(
            f"found {len(images)} usable images in {folder}; at least {MIN_IMAGES} are needed "
            f"(accepted: {', '.join(sorted(IMAGE_SUFFIXES))})"
        )
    stacked = torch.stack(images)
    label_tensor = torch.tensor(labels, dtype=torch.int64)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    cut = max(1, int(len(images) * HELD_OUT_FRACTION))
    test, train = order[:cut], order[cut:]
    labelled = len(groups) > 1
    return ImageDataset(
        name=f"folder:{folder.name}",
        images=stacked[train],
        labels=label_tensor[train] if labelled else None,
        class_names=[name for name, _ in groups] if labelled else [],
        test_images=stacked[test],
        test_labels=label_tensor[test] if labelled else None,
    )
