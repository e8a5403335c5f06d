"""Fixed image measures of a digit (slant, stroke thickness, width) and the word bins they fall into.

Captions must be true of their images by construction, so every attribute word comes from a measure computed on
the image itself, with no learned part:

- **slant**: the shear of the ink from its second moments (`gan_core.code_reading.slant_and_width`, shared with
  the InfoGAN page): the mean x-shift of the ink per row, positive when the top leans to the right.
- **thickness**: stroke width in pixels, twice the ink area over its boundary length. The ink is the pixels brighter
  than half; the boundary counts the sides between an ink pixel and a blank one. A stroke of length L and width w
  has area L·w and boundary about 2·L, so the ratio gives w whatever the digit's length (ink mass over skeleton
  length, without computing a skeleton).
- **width**: two standard deviations of the ink's columns, in pixels (`slant_and_width` again).

Every measure is taken at 32×32 (images of another size are resampled first), so 16×16 Stage-I images, 28×28 and
32×32 digits are measured alike. Thickness and width are cut at about the thirds of their measures on mnist_5k
(32×32), so each word describes roughly a third of the digits. Slant is cut at -0.08 and 0.20 pixels per row
(about -5° and +11°): handwritten digits lean right on the whole, so "upright" is centred on zero rather than on the
middle third (shares on mnist_5k: 21% left, 37% upright, 41% right).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gan_core.code_reading import slant_and_width
from gan_core.data.types import from_unit_range

MEASURE_SIZE = 32
INK_LEVEL = 0.5


@dataclass(frozen=True)
class Attribute:
    """One attribute: its words for each bin (low to high) and the measure's edges between the bins."""

    name: str
    bins: tuple[str, ...]
    edges: tuple[float, ...]

    def bin_of(self, values: torch.Tensor) -> torch.Tensor:
        """The bin index (0 .. len(bins) - 1) of each measured value."""
        return torch.bucketize(values.float().contiguous(), torch.tensor(self.edges, dtype=torch.float32))


SLANT = Attribute("slant", ("leaning left", "upright", "leaning right"), (-0.08, 0.20))
THICKNESS = Attribute("thickness", ("thin", "medium", "bold"), (1.75, 2.15))
WIDTH = Attribute("width", ("narrow", "average width", "wide"), (6.9, 8.7))
ATTRIBUTES = (SLANT, THICKNESS, WIDTH)
"""Every measured attribute, in the order of the columns of `measure_bins`."""


def _at_measure_size(images: torch.Tensor) -> torch.Tensor:
    images = images.float()
    if images.shape[-1] != MEASURE_SIZE:
        images = F.interpolate(images, size=(MEASURE_SIZE, MEASURE_SIZE), mode="bilinear", align_corners=False)
    return images


def stroke_thickness(images: torch.Tensor) -> torch.Tensor:
    """Per image: 2 · ink area / ink boundary length, in pixels at 32×32; images (N, 1, H, W) in [-1, 1]."""
    ink = (from_unit_range(_at_measure_size(images))[:, 0] > INK_LEVEL).float()
    padded = F.pad(ink, (1, 1, 1, 1))
    boundary = ((padded[:, 1:, :] - padded[:, :-1, :]).abs().sum((1, 2))
                + (padded[:, :, 1:] - padded[:, :, :-1]).abs().sum((1, 2)))
    return 2 * ink.sum((1, 2)) / boundary.clamp_min(1.0)


def measure(images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Slant (x-shift per row), thickness and width (pixels at 32×32) of each image in [-1, 1]."""
    images = _at_measure_size(images)
    slant, width = slant_and_width(images)
    return {"slant": slant, "thickness": stroke_thickness(images), "width": width}


def measure_bins(images: torch.Tensor) -> torch.Tensor:
    """(N, 3) int64: each image's slant, thickness and width bin (the order of `ATTRIBUTES`)."""
    values = measure(images)
    return torch.stack([attribute.bin_of(values[attribute.name]) for attribute in ATTRIBUTES], 1)
