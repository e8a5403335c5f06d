"""What the InfoGAN page says a model's codes do is measured: the image measures, the judge's readings, the labels."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.code_reading import CodeReading, read_model_codes, slant_and_width
from gan_core.grids import to_pil, with_labels

SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints"


def bar(width: int, shear: float) -> torch.Tensor:
    """A vertical bar of ink `width` px wide on a dark 32×32 ground, its top shifted right by `shear` px per row up."""
    image = -torch.ones(1, 1, 32, 32)
    for row in range(4, 28):
        centre = 16 + shear * (16 - row)
        image[0, 0, row, int(round(centre - width / 2)):int(round(centre + width / 2))] = 1.0
    return image


def test_slant_is_positive_for_a_digit_leaning_right_and_width_grows_with_the_stroke():
    upright, leaning_right, leaning_left = (slant_and_width(bar(3, shear))[0].item() for shear in (0.0, 0.4, -0.4))
    assert abs(upright) < 0.05
    assert leaning_right > 0.3 and leaning_left < -0.3
    thin, thick = (slant_and_width(bar(width, 0.0))[1].item() for width in (2, 8))
    assert thick > thin + 2


def test_a_code_that_moves_nothing_is_not_named():
    assert CodeReading(0, slant=0.1, width=-0.2).controls == "no clear slant or width"
    assert CodeReading(0, slant=-1.5, width=0.3).controls == "slant"
    assert CodeReading(0, slant=0.2, width=0.9).controls == "width"


@pytest.mark.skipif(not (SHIPPED / "infogan-digits.safetensors").is_file(), reason="no shipped InfoGAN")
def test_the_shipped_infogan_codes_are_read_as_its_readme_says():
    """infogan-digits' categories each draw one digit (category accuracy 0.980); code 1 slants, code 2 widens."""
    from gan_core.checkpoints import load_generator

    torch.manual_seed(0)
    codes = read_model_codes(load_generator(SHIPPED / "infogan-digits.safetensors"))
    assert sorted(reading.digit for reading in codes.categories) == list(range(10))
    assert min(reading.share for reading in codes.categories) > 0.7
    assert [reading.controls for reading in codes.codes] == ["slant", "width"]


def test_labels_are_drawn_beside_the_rows_and_above_the_columns():
    grid = to_pil(torch.ones(6, 1, 8, 8), columns=3, scale=2)  # all white cells
    labelled = with_labels(grid, ["row a", "row b"], ["-2", "0", "+2"])
    assert labelled.width > grid.width and labelled.height > grid.height
    pixels = np.asarray(labelled.convert("L"))
    margin_left = labelled.width - grid.width
    assert pixels[labelled.height - grid.height:, :margin_left].min() < 128, "row labels are drawn in the left margin"
    assert pixels[:labelled.height - grid.height, margin_left:].min() < 128, "column labels are drawn on top"
    assert isinstance(labelled, Image.Image)
