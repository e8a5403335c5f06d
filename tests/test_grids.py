"""Image grids for the pages' pictures and downloads."""

import io

import numpy as np
from PIL import Image

from gan_core.grids import png_bytes, stacked_png


def test_stacked_rows_are_the_rows_one_under_another_pixel_for_pixel():
    rng = np.random.default_rng(0)
    rows = [rng.integers(0, 256, (height, 30), dtype=np.uint8) for height in (7, 5)]
    stacked = np.asarray(Image.open(io.BytesIO(stacked_png([png_bytes(Image.fromarray(r, "L")) for r in rows]))))
    assert stacked.shape == (12, 30), "grey rows stay grey"
    np.testing.assert_array_equal(stacked, np.concatenate(rows))


def test_stacking_a_colour_row_under_a_grey_one_keeps_both():
    grey = Image.fromarray(np.full((4, 6), 90, np.uint8), "L")
    red = Image.new("RGB", (6, 3), (200, 10, 10))
    stacked = np.asarray(Image.open(io.BytesIO(stacked_png([png_bytes(grey), png_bytes(red)]))))
    assert stacked.shape == (7, 6, 3)
    assert (stacked[:4] == 90).all() and (stacked[4:] == (200, 10, 10)).all()
