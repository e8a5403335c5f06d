"""The command line as a script would use it, and the dataset loaders on files the tests write."""

import gzip
import json
import struct
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.cli import main
from gan_core.data.catalogue import load_dataset
from gan_core.errors import DatasetUnavailableError

TINY = ["--image-size", "16", "--width", "8", "--batch-size", "8", "--device", "cpu", "--quiet"]


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "cgan"
    assert main(["train", "--variant", "cgan", "--steps", "3", "--log-every", "1", "--out", str(out), *TINY]) == 0
    return out


def test_variants_lists_one_line_per_variant(capsys):
    assert main(["variants"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines][:8] == ["gan", "dcgan", "cgan", "acgan", "infogan", "wgan", "wgan_gp", "lsgan"]


def test_train_writes_a_complete_run_folder(cgan_run):
    assert {p.name for p in cgan_run.iterdir()} >= {"config.json", "generator.safetensors", "resume.pt", "metrics.jsonl",
                                                   "samples", "status.json"}
    assert json.loads((cgan_run / "status.json").read_text())["status"] == "finished"


def test_resume_extends_a_run(cgan_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(cgan_run, run)
    assert main(["train", "--resume", str(run), "--steps", "5", "--quiet"]) == 0
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5]


def test_sample_writes_png_grids_and_npy_arrays(cgan_run, tmp_path):
    checkpoint = str(cgan_run / "generator.safetensors")
    assert main(["sample", "--checkpoint", checkpoint, "--n", "12", "--label", "7", "--out", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size[0] > 16
    assert main(["sample", "--checkpoint", checkpoint, "--n", "5", "--seed", "4", "--out", str(tmp_path / "a.npy")]) == 0
    array = np.load(tmp_path / "a.npy")
    assert array.shape == (5, 1, 16, 16) and array.dtype == np.float32
    assert 0.0 <= array.min() and array.max() <= 1.0
    main(["sample", "--checkpoint", checkpoint, "--n", "5", "--seed", "4", "--out", str(tmp_path / "b.npy")])
    assert np.array_equal(array, np.load(tmp_path / "b.npy")), "same seed, same samples"


def test_evaluate_prints_the_metrics_as_json(cgan_run, capsys):
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(cgan_run / "generator.safetensors"), "--n", "100"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert {"label_accuracy", "intra_class_diversity", "frechet_distance", "frechet_real_vs_real",
            "class_coverage"} <= set(scores)


@pytest.mark.parametrize("arguments, message", [
    (["train", "--variant", "stylegan9", "--out", "x"], "unknown variant 'stylegan9'"),
    (["train", "--variant", "dcgan", "--out", "x", "--lr-g", "-1"], "Generator learning rate (lr_g) must be a number from"),
    (["sample", "--checkpoint", "missing.safetensors", "--out", "x.png"], "does not exist"),
    (["sample", "--checkpoint", "{foreign}", "--out", "x.png"], "not a safetensors file"),
])
def test_user_errors_exit_2_with_one_line(arguments, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "foreign.safetensors").write_bytes(b"\x00" * 64)
    arguments = [a.replace("{foreign}", "foreign.safetensors") for a in arguments]
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1 and "Traceback" not in error


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">HBB", 0, 8, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") if path.suffix == ".gz" else open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def test_mnist_loader_reads_the_torchvision_format(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 12), ("t10k", 4)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)
    data = load_dataset("mnist", 32, str(tmp_path))
    assert data.images.shape == (12, 1, 32, 32) and data.images.dtype == torch.uint8
    assert data.test_images.shape == (4, 1, 32, 32)
    assert data.labels.tolist() == [i % 10 for i in range(12)] and data.num_classes == 10


def test_offline_torchvision_sets_name_the_embedded_default(tmp_path, monkeypatch):
    import torchvision.datasets as tv

    def offline(self, *args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(tv.FashionMNIST, "download", offline)
    with pytest.raises(DatasetUnavailableError, match="use the embedded 'mnist_5k' dataset"):
        load_dataset("fashion_mnist", 32, str(tmp_path))


def test_folder_dataset_reads_class_subfolders(tmp_path):
    for label, colour in (("cats", 40), ("dogs", 200)):
        (tmp_path / label).mkdir()
        for i in range(6):
            Image.new("RGB", (40 + i, 30), (colour, i, 0)).save(tmp_path / label / f"{i}.png")
    data = load_dataset("folder", 16, str(tmp_path))
    assert data.class_names == ["cats", "dogs"]
    assert data.images.shape[1:] == (3, 16, 16)
    assert len(data) + len(data.test_images) == 12


def test_embedded_digits_hold_out_a_fixed_stratified_fifth():
    first, second = load_dataset("digits", 32), load_dataset("digits", 32)
    assert len(first) + len(first.test_images) == 1797
    assert torch.equal(first.test_labels, second.test_labels)
    assert torch.bincount(first.test_labels).min() >= 35
