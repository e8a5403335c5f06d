"""Every shipped model still draws what it drew when it was recorded (tests/shipped_samples_record.py).

A refactor of networks, checkpoints, sampling or translation must leave these pictures unchanged: up to
2 of 255 levels of rounding difference per pixel are allowed (thread counts change summation order).
"""

import numpy as np
import pytest
from shipped_samples_record import RECORD, draw, shipped_models

RECORDED = dict(np.load(RECORD))


def test_every_shipped_model_is_recorded_and_no_record_is_stale():
    assert sorted(path.stem for path in shipped_models()) == sorted(RECORDED)


@pytest.mark.parametrize("path", shipped_models(), ids=lambda path: path.stem)
def test_shipped_model_draws_what_it_drew(path):
    drawn = draw(path)
    expected = RECORDED[path.stem]
    assert drawn.shape == expected.shape
    assert np.abs(drawn.astype(int) - expected.astype(int)).max() <= 2
