"""Offline image-to-image tasks made only from photos shipped inside scikit-image and scikit-learn.

There is no paired-photo data set on disk, so one domain is computed from the photo by a filter:
its pencil sketch or its grayscale. Training data are many random crops at several scales of the
training photos; the cat photo (skimage `chelsea`) is held out whole, so evaluation is on a scene
the networks never saw. Crops are drawn with a fixed NumPy seed: the data set is the same each load.

`photo2sketch_paired` (pix2pix) and `photo2sketch` (CycleGAN) learn the same mapping, one from pairs and
one without: in the unpaired task the B domain is the pencil sketch of *other* photos than its A domain,
so no A image has its B counterpart. (An edges → photo task was tried and dropped: from Canny edges of six
photos the colours of a held-out scene cannot be inferred, and no model beat the mean image; BENCHMARKS.md.)
Every synthesised domain is named in `synthesised`, which the pages show, and a task whose models cannot do what
users may expect says so in `expectation`: gray2color's colours do not transfer to new scenes from six photos
(on held-out photos they score below the grey input's SSIM; BENCHMARKS.md, "Session 9").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy import ndimage
from skimage import data as skimage_data
from skimage.color import rgb2gray
from skimage.transform import rescale

from gan_core.data.paired import PairedDataset, load_size, make_paired_dataset
from gan_core.data.resize import resize_uint8

TRAIN_PHOTOS = ("astronaut", "coffee", "rocket", "china", "flower", "immunohistochemistry")
HELD_OUT_PHOTOS = ("chelsea",)
SCALES = (1.0, 0.7, 0.5)
CROP_BUDGET_BYTES = 96 * 1024 * 1024  # per domain; fewer crops at large image sizes
MAX_CROPS = 2048
HELD_OUT_CROPS = 16
SEED = 7

Filter = Callable[[np.ndarray], np.ndarray]


def photo(name: str) -> np.ndarray:
    """An embedded RGB photo as (H, W, 3) uint8: scikit-learn's two samples or a scikit-image one."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    return getattr(skimage_data, name)()


def example_photo() -> np.ndarray:
    """The held-out photo, also the default picture to translate on the page."""
    return photo(HELD_OUT_PHOTOS[0])


def _as_uint8_rgb(values: np.ndarray) -> np.ndarray:
    """A float [0, 1] grayscale or colour array as (H, W, 3) uint8."""
    values = np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)
    return np.repeat(values[..., None], 3, axis=2) if values.ndim == 2 else values


def grayscale(rgb: np.ndarray) -> np.ndarray:
    return _as_uint8_rgb(rgb2gray(rgb))


def pencil_sketch(rgb: np.ndarray) -> np.ndarray:
    """Colour-dodge of the grayscale with its blurred negative: the classic pencil-sketch filter."""
    gray = rgb2gray(rgb)
    blurred_negative = ndimage.gaussian_filter(1.0 - gray, sigma=4.0)
    return _as_uint8_rgb(np.clip(gray / np.maximum(1.0 - blurred_negative, 1e-3), 0.0, 1.0))


def identity(rgb: np.ndarray) -> np.ndarray:
    return rgb


def _at_scale(rgb: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return rgb
    return _as_uint8_rgb(rescale(rgb, scale, channel_axis=2, anti_aliasing=True))


def _random_crops(
    photos: tuple[str, ...], filters: tuple[Filter, Filter], size: int, count: int, rng: np.random.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` random crops spread over photos and scales, through both domain filters, at size×size.

    Crops are taken at up to twice `size` and resized, so each keeps more of the scene. The filters
    run on the whole rescaled photo, not on the crop, so edges at crop borders are real.
    """
    sources = []
    for name in photos:
        for scale in SCALES:
            rgb = _at_scale(photo(name), scale)
            if min(rgb.shape[:2]) >= size or scale == SCALES[0]:
                sources.append((filters[0](rgb), filters[1](rgb)))
    per_source = -(-count // len(sources))
    batches_a, batches_b = [], []
    for image_a, image_b in sources:
        height, width = image_a.shape[:2]
        side = min(2 * size, height, width)
        tops = rng.integers(0, height - side + 1, per_source)
        lefts = rng.integers(0, width - side + 1, per_source)
        for image, batches in ((image_a, batches_a), (image_b, batches_b)):
            crops = np.stack([image[top:top + side, left:left + side] for top, left in zip(tops, lefts)])
            batches.append(resize_uint8(torch.from_numpy(crops).permute(0, 3, 1, 2), size))
    order = torch.from_numpy(rng.permutation(per_source * len(sources))[:count])
    return torch.cat(batches_a)[order], torch.cat(batches_b)[order]


@dataclass(frozen=True)
class EmbeddedTask:
    """One offline task: how each domain is made from a photo and whether A and B are the same scene.

    `config_defaults` holds, per variant, the settings this task trains best with; they sit between the
    variant's defaults and the user's choices (see `VariantSpec.default_config`). `expectation` says what a
    model trained on the task can and cannot do with a new picture, for the pages to show beside it.
    """

    name: str
    description: str
    filter_a: Filter
    filter_b: Filter
    aligned: bool
    synthesised: str
    config_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    expectation: str = ""

    def load(self, image_size: int, root: str | None = None, train_photos: tuple[str, ...] = TRAIN_PHOTOS,
             held_out_photos: tuple[str, ...] = HELD_OUT_PHOTOS) -> PairedDataset:
        """The task at `image_size`; other photo splits are for validation (choosing settings without the cat)."""
        rng = np.random.default_rng(SEED)
        stored = load_size(image_size)
        count = int(min(MAX_CROPS, max(64, CROP_BUDGET_BYTES // (3 * stored * stored))))
        if self.aligned:
            train_a, train_b = _random_crops(train_photos, (self.filter_a, self.filter_b), stored, count, rng)
        else:  # disjoint photo sets: A from the first half, B from the second
            half = len(train_photos) // 2
            train_a, _ = _random_crops(train_photos[:half], (self.filter_a, identity), stored, count, rng)
            _, train_b = _random_crops(train_photos[half:], (identity, self.filter_b), stored, count, rng)
        test_a, test_b = _random_crops(held_out_photos, (self.filter_a, self.filter_b), image_size, HELD_OUT_CROPS, rng)
        return make_paired_dataset(self.name, train_a, train_b, test_a, test_b, image_size, self.aligned,
                                   description=self.description, synthesised=self.synthesised)


TASKS: dict[str, EmbeddedTask] = {
    task.name: task for task in (
        EmbeddedTask(
            "photo2sketch_paired", "pix2pix: colour photo → its pencil sketch, crops of scikit-image/scikit-learn "
                                   "photos (offline)",
            identity, pencil_sketch, aligned=True,
            synthesised="domain B (pencil sketches) is synthesised with a colour-dodge filter, not drawn by hand"),
        EmbeddedTask(
            "gray2color", "pix2pix: grayscale → colour photo, crops of scikit-image/scikit-learn photos (offline)",
            grayscale, identity, aligned=True,
            synthesised="domain A (grayscale) is computed from the colour photos",
            config_defaults={"pix2pix": {"keep_lightness": True, "chroma_downsample": 16}},
            expectation="the colours are learned from six photos (a portrait, coffee, a rocket, a temple, a flower, "
                        "stained cells), so they are plausible guesses, not recovered truth: on photos it never saw, "
                        "their structural similarity (SSIM) to the real photo is no better than the grey picture's "
                        "(BENCHMARKS.md). "
                        "Every edge comes from your picture's own lightness; only the colour is the model's"),
        EmbeddedTask(
            "photo2sketch", "CycleGAN: colour photos ↔ pencil sketches of other photos, unpaired (offline)",
            identity, pencil_sketch, aligned=False,
            synthesised="domain B (pencil sketches) is synthesised with a colour-dodge filter, not drawn by hand"),
    )
}


def task_config_defaults(dataset_name: str, variant: str) -> dict[str, Any]:
    """The settings an embedded task suggests for `variant` (none for other data sets or variants)."""
    task = TASKS.get(dataset_name)
    return dict(task.config_defaults.get(variant, {})) if task else {}


def synthesised_note(dataset_name: str) -> str:
    """What was synthesised in an embedded task, or '' for other data sets (shown by the pages)."""
    task = TASKS.get(dataset_name)
    return task.synthesised if task else ""


def expectation(dataset_name: str) -> str:
    """What a model of an embedded task can do with a new picture, or '' (other data sets, or nothing to say)."""
    task = TASKS.get(dataset_name)
    return task.expectation if task else ""


def working_side(dataset_name: str, image_size: int) -> int | None:
    """The longest side at which a picture looks as this task's training crops did; None for other data sets.

    Training crops are windows of 2·image_size pixels of photos about 600 px across (the training photos'
    mean longest side is 590), taken at SCALES and shrunk to image_size: one training pixel spans 2/s photo
    pixels. At the middle scale (0.7) a photo is then 600·0.7/2 ≈ 3·image_size training pixels across.
    """
    return 3 * image_size if dataset_name in TASKS else None


def input_filter(dataset_name: str, direction: str) -> tuple[Filter, str] | None:
    """How to make a translator's input from an ordinary photo, as its training data was made.

    For `photo2sketch` B→A that is the pencil sketch; None when a photo is already a valid input
    (or the data set is not an embedded task).
    """
    task = TASKS.get(dataset_name)
    if task is None:
        return None
    chosen = task.filter_a if direction == "AtoB" else task.filter_b
    if chosen is identity:
        return None
    return chosen, f"the input was made from your picture with the {chosen.__name__.replace('_', ' ')} filter, " \
                   "as the training data were"
