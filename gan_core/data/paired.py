"""Image-to-image data: two domains A and B, aligned (pix2pix) or unpaired (CycleGAN).

Both domains live on the device as uint8 tensors stored a little larger than the training size
(the official recipe loads 286 and crops 256), so augmentation is one batched gather and one flip
per batch, never per-sample PIL work. Aligned pairs share their crop and flip; unpaired batches
draw A and B independently. All randomness comes from the global torch RNG, so a saved RNG state
decides the batches that follow and resume is exact.

Folder layouts are the official project's: `train/ val/ test/` holding A|B side-by-side images
(A left), or `trainA/ trainB/ testA/ testB/` folders of unpaired images.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_core.data.resize import center_crop_square, resize_uint8
from gan_core.data.types import ImageDataset, image_files, to_unit_range
from gan_core.errors import DatasetUnavailableError

MIN_TRAIN_IMAGES = 2
TRAIN_BUDGET_BYTES = 2 * 1024**3
"""Most memory one domain's stored training images may take; a larger folder is read in part, by file name, and
the data set's description says so (edges2handbags has 137k pairs: 4 GiB per domain at 64 px, 67 at 256)."""
HELD_OUT_LIMIT = 512
"""Held-out images read per domain: previews and scores need few."""


def load_size(image_size: int) -> int:
    """Side images are stored at before the random crop: about 286/256 of the training size."""
    return image_size + max(2, image_size // 8)


@dataclass
class PairedDataset(ImageDataset):
    """Domain A in `images`/`test_images`, domain B in `targets`/`test_targets`.

    Training tensors are stored at `load_size(crop_size)` and cropped while batching; held-out ones
    are stored at `crop_size`. `aligned` says whether A[i] and B[i] are the same scene.
    `synthesised` names any domain that was made by an image filter rather than photographed,
    so pages can say so.
    """

    targets: torch.Tensor
    test_targets: torch.Tensor
    aligned: bool
    crop_size: int
    description: str = ""
    synthesised: str = ""

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.images.shape[1], self.crop_size, self.crop_size)


def random_crop_flip(images: torch.Tensor, size: int, tops: torch.Tensor, lefts: torch.Tensor,
                     flips: torch.Tensor) -> torch.Tensor:
    """Crop each image of a (N, C, H, W) batch at its own offset and mirror the chosen ones.

    One advanced-indexing gather does every crop at once, which is why offsets are tensors.
    """
    steps = torch.arange(size, device=images.device)
    rows = (tops[:, None] + steps)[:, None, :, None]
    columns = lefts[:, None] + steps
    columns = torch.where(flips[:, None], columns.flip(-1), columns)[:, None, None, :]
    batch = torch.arange(images.shape[0], device=images.device)[:, None, None, None]
    channels = torch.arange(images.shape[1], device=images.device)[None, :, None, None]
    return images[batch, channels, rows, columns]


class PairBatchSource:
    """Draws (A, B) batches in [-1, 1]: shared crops for aligned pairs, independent ones otherwise."""

    def __init__(self, dataset: PairedDataset, batch_size: int, device: torch.device, aligned: bool) -> None:
        if aligned and not dataset.aligned:
            raise DatasetUnavailableError(
                f"dataset {dataset.name!r} has unpaired domains; pix2pix needs aligned A|B pairs "
                "(use CycleGAN for unpaired data)")
        self.a = dataset.images.to(device)
        self.b = dataset.targets.to(device)
        self.pairs = torch.cat([self.a, self.b], 1) if aligned else None
        self.aligned = aligned
        self.batch_size = batch_size
        self.crop = dataset.crop_size
        self.device = device

    def _crop(self, images: torch.Tensor) -> torch.Tensor:
        """A random batch of `images`, each randomly cropped and flipped."""
        n, slack = self.batch_size, images.shape[-1] - self.crop + 1
        index = torch.randint(0, images.shape[0], (n,), device=self.device)
        tops = torch.randint(0, slack, (n,), device=self.device)
        lefts = torch.randint(0, slack, (n,), device=self.device)
        flips = torch.rand(n, device=self.device) < 0.5
        return random_crop_flip(images[index], self.crop, tops, lefts, flips)

    def __call__(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.aligned:  # A and B side by side on channels: one crop and flip serves both halves
            a, b = self._crop(self.pairs).split([self.a.shape[1], self.b.shape[1]], 1)
        else:
            a, b = self._crop(self.a), self._crop(self.b)
        return to_unit_range(a), to_unit_range(b)


def make_paired_dataset(
    name: str, train_a: torch.Tensor, train_b: torch.Tensor, test_a: torch.Tensor, test_b: torch.Tensor,
    image_size: int, aligned: bool, description: str = "", synthesised: str = "",
) -> PairedDataset:
    """Resize uint8 (N, C, H, W) squares: training ones to the load size, held-out ones to the crop size."""
    stored = load_size(image_size)
    return PairedDataset(
        name=name, images=resize_uint8(train_a, stored), labels=None, class_names=[],
        test_images=resize_uint8(test_a, image_size), test_labels=None,
        targets=resize_uint8(train_b, stored), test_targets=resize_uint8(test_b, image_size),
        aligned=aligned, crop_size=image_size, description=description, synthesised=synthesised,
    )


# --- official folder layouts ---------------------------------------------------------------
def _read_rgb(path: Path) -> torch.Tensor | None:
    """(3, H, W) uint8, or None for a file that is not a readable image (it is skipped)."""
    try:
        with Image.open(path) as picture:
            array = np.asarray(ImageOps.exif_transpose(picture).convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return torch.from_numpy(array.copy()).permute(2, 0, 1)


def _square(image: torch.Tensor, size: int) -> torch.Tensor:
    """Centre-crop one (3, H, W) image to a square and resize it to (1, 3, size, size) uint8."""
    return resize_uint8(center_crop_square(image)[None], size)


def train_limit(size: int) -> int:
    """How many training images of one domain fit `TRAIN_BUDGET_BYTES` when stored at size×size."""
    return max(MIN_TRAIN_IMAGES, TRAIN_BUDGET_BYTES // (3 * size * size))


def _read_aligned(folder: Path, size: int, limit: int) -> tuple[torch.Tensor, torch.Tensor, int] | None:
    """Split A|B images into their halves (A left, B right), the first `limit` by name: (A, B, files in the folder).

    Each image is shrunk as it is read, so memory holds stored squares only, never a folder of full pictures.
    None when the folder has no readable image.
    """
    files = image_files(folder)
    halves_a, halves_b = [], []
    for path in files:
        if len(halves_a) == limit:
            break
        image = _read_rgb(path)
        if image is None or image.shape[-1] < 2:
            continue
        half = image.shape[-1] // 2
        halves_a.append(_square(image[..., :half], size))
        halves_b.append(_square(image[..., half:2 * half], size))
    if not halves_a:
        return None
    return torch.cat(halves_a), torch.cat(halves_b), len(files)


def _read_domain(folder: Path, size: int, limit: int) -> tuple[torch.Tensor, int] | None:
    """The first `limit` readable images of `folder` by name, stored at size×size: (images, files in the folder)."""
    files = image_files(folder)
    images = []
    for path in files:
        if len(images) == limit:
            break
        if (image := _read_rgb(path)) is not None:
            images.append(_square(image, size))
    return (torch.cat(images), len(files)) if images else None


def _too_few(root: Path, what: str) -> DatasetUnavailableError:
    return DatasetUnavailableError(
        f"{root} has too few images in {what} (need at least {MIN_TRAIN_IMAGES}); expected the official layout: "
        "train/ (and val/ or test/) with A|B side-by-side images, or trainA/ trainB/ testA/ testB/ folders")


def _budget_note(read: int, total: int) -> str:
    return f"; the first {read:,} of {total:,} training images by name (the memory budget)" if read < total else ""


def load_aligned_folder(root: Path, image_size: int) -> PairedDataset:
    """pix2pix layout: root/train/*.png with A left and B right; held out from test/, else val/."""
    stored = load_size(image_size)
    train = _read_aligned(root / "train", stored, train_limit(stored))
    if train is None or train[0].shape[0] < MIN_TRAIN_IMAGES:
        raise _too_few(root, "train/")
    train_a, train_b, total = train
    held_out = (_read_aligned(root / "test", image_size, HELD_OUT_LIMIT)
                or _read_aligned(root / "val", image_size, HELD_OUT_LIMIT))
    if held_out is None:  # no held-out folder: evaluate on the first training pairs
        held_out = resize_uint8(train_a[:8], image_size), resize_uint8(train_b[:8], image_size), 0
    return make_paired_dataset(root.name, train_a, train_b, held_out[0], held_out[1], image_size, aligned=True,
                               description=f"aligned A|B pairs from {root}{_budget_note(len(train_a), total)}")


def load_unpaired_folder(root: Path, image_size: int) -> PairedDataset:
    """CycleGAN layout: root/trainA, trainB (and testA, testB) folders of unrelated images."""
    stored = load_size(image_size)
    train = {domain: _read_domain(root / domain, stored, train_limit(stored)) for domain in ("trainA", "trainB")}
    for domain, read in train.items():
        if read is None or read[0].shape[0] < MIN_TRAIN_IMAGES:
            raise _too_few(root, f"{domain}/")
    (train_a, total_a), (train_b, total_b) = train["trainA"], train["trainB"]
    held_out = []
    for domain, fallback in (("testA", train_a), ("testB", train_b)):
        read = _read_domain(root / domain, image_size, HELD_OUT_LIMIT)
        held_out.append(read[0] if read is not None else resize_uint8(fallback[:8], image_size))
    note = _budget_note(len(train_a) + len(train_b), total_a + total_b)
    return make_paired_dataset(root.name, train_a, train_b, held_out[0], held_out[1], image_size, aligned=False,
                               description=f"unpaired domains A and B from {root}{note}")


def translation_layout(folder: Path) -> str | None:
    """Which official layout `folder` has, by its folder names: "unpaired", "aligned" or None."""
    if (folder / "trainA").is_dir() or (folder / "trainB").is_dir():
        return "unpaired"
    return "aligned" if (folder / "train").is_dir() else None


def load_translation_folder(image_size: int, root: str | None = None) -> PairedDataset:
    """Either official layout, recognised by its folder names."""
    if not root:
        raise DatasetUnavailableError("the 'translation_folder' dataset needs data_root: a folder with "
                                      "train/ (A|B pairs) or trainA/ and trainB/")
    folder = Path(root)
    if not folder.is_dir():
        raise DatasetUnavailableError(f"image folder {folder} does not exist")
    layout = translation_layout(folder)
    if layout is None:
        raise _too_few(folder, "train/ or trainA/ and trainB/")
    return (load_unpaired_folder if layout == "unpaired" else load_aligned_folder)(folder, image_size)
