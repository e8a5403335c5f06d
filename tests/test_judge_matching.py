"""A checkpoint is measured by the judge and the real digits of the data set it was trained on."""

from pathlib import Path

import pytest
import torch

from gan_core import judge as judge_module
from gan_core.data.catalogue import load_dataset
from gan_core.errors import CheckpointError
from gan_core.judge import Judge, JudgeNet, judge_path_for, load_judge, save_judge
from gan_core.metrics import DigitsReference, evaluate_checkpoint
from gan_core.registry import config_for
from gan_core.training import train

TINY = {"steps": 1, "image_size": 16, "width": 8, "batch_size": 4, "device": "cpu", "log_every": 1,
        "sample_every": 1000, "checkpoint_every": 1000}
# Untrained judges told apart by the accuracy written into them.
ACCURACY = {"digits": 0.125, "mnist_5k": 0.25}


@pytest.fixture(scope="module")
def judges(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("judges")
    for dataset, accuracy in ACCURACY.items():
        torch.manual_seed(0)
        save_judge(Judge(JudgeNet().eval(), accuracy, dataset), folder / f"judge-{dataset}.safetensors", 0.0)
    return folder


@pytest.fixture(scope="module")
def generators(tmp_path_factory, digits16) -> dict[str, Path]:
    """A one-step dcgan on each digit set (a slice of mnist_5k keeps it fast)."""
    folder = tmp_path_factory.mktemp("generators")
    mnist16 = load_dataset("mnist_5k", 16)
    paths = {}
    for name, data in (("digits", digits16), ("mnist_5k", mnist16)):
        train(config_for("dcgan", dataset=name, **TINY), folder / name, dataset=data)
        paths[name] = folder / name / "generator.safetensors"
    return paths


@pytest.mark.parametrize("dataset", ["digits", "mnist_5k"])
def test_evaluate_picks_the_judge_and_reference_of_the_checkpoints_dataset(dataset, judges, generators, monkeypatch):
    monkeypatch.setattr(judge_module, "JUDGE_DIR", judges)
    scores = evaluate_checkpoint(generators[dataset], n=40)
    assert scores["dataset"] == dataset
    assert scores["judge_held_out_accuracy"] == ACCURACY[dataset]
    expected = DigitsReference(load_judge(judges / f"judge-{dataset}.safetensors"), dataset=dataset)
    assert scores["frechet_real_vs_real"] == round(expected.real_vs_real_frechet, 3), "the matching real digits"

def test_a_judge_of_another_dataset_is_refused(judges, generators):
    with pytest.raises(CheckpointError, match="measures digits"):
        evaluate_checkpoint(generators["mnist_5k"], n=40, judge_path=judges / "judge-digits.safetensors")


def test_judges_are_named_by_dataset_and_only_for_digit_sets():
    assert judge_path_for("mnist_5k").name == "judge-mnist_5k.safetensors"
    assert judge_path_for("digits").name == "judge-digits.safetensors"
    with pytest.raises(CheckpointError, match="no judge for 'cifar10'"):
        judge_path_for("cifar10")


def test_a_missing_judge_says_how_to_train_it(tmp_path, monkeypatch):
    monkeypatch.setattr(judge_module, "JUDGE_DIR", tmp_path)
    with pytest.raises(CheckpointError, match="train-judge --dataset mnist_5k"):
        load_judge(dataset="mnist_5k")
