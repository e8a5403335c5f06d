"""Shared fixtures: a small slice of the embedded digits so training tests run in seconds."""

import pytest
import torch

from gan_core.data.digits import load_digits


@pytest.fixture(scope="session")
def digits16():
    """The embedded digits at 16×16: small enough that a few steps of every variant take a second."""
    return load_digits(16)


@pytest.fixture(autouse=True)
def _fixed_threads():
    torch.set_num_threads(2)
    yield
