"""The /sequences page through Streamlit's AppTest: tiny SeqGAN models on a fortune file the test writes, and an
untrained model of a small synthetic oracle (its checkpoint written directly, so no oracle data are generated)."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

import pytest
import torch
from app_testing import open_app_page
from streamlit.testing.v1 import AppTest
from test_seqgan_variant import TINY, write_fortunes

from gan_core.checkpoints import DatasetInfo, save_generator
from gan_core.registry import config_for
from gan_core.sequence.language_model import LstmLanguageModel
from gan_core.sequence.oracle import OracleSettings
from gan_core.training import train


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> Path:
    """MLE-only and SeqGAN stand-ins on the same poems (with their curves), and an oracle model."""
    torch.set_num_threads(2)
    corpus = write_fortunes(tmp_path_factory.mktemp("poems") / "poems")
    folder = tmp_path_factory.mktemp("checkpoints")
    for name, steps in (("seqgan-poems", 9), ("seqgan-poems-mle-only", 6)):
        run = tmp_path_factory.mktemp(name) / "run"
        assert train(config_for("seqgan", dataset="tang_poems", data_root=str(corpus), **{**TINY, "steps": steps}),
                     run).status == "finished"
        shutil.copy(run / "generator.safetensors", folder / f"{name}.safetensors")
        shutil.copy(run / "metrics.jsonl", folder / f"{name}.metrics.jsonl")
    oracle = OracleSettings(vocab_size=50, train_count=10, heldout_count=10)
    generator = LstmLanguageModel(50, 20, 32, 32)
    details = {"vocab_size": 50, "sequence_length": 20, "vocabulary": None, "oracle": asdict(oracle)}
    save_generator(folder / "seqgan-oracle.safetensors", generator, config_for("seqgan"), None,
                   DatasetInfo("seqgan_oracle", None, [], details), 0)
    return folder


@pytest.fixture
def page(monkeypatch, tmp_path, checkpoints) -> AppTest:
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(checkpoints))
    return open_app_page("app_pages/sequences.py")


def test_first_load_shows_the_oracle_models_samples_and_score(page):
    assert page.radio(key="sequences.dataset").value == "seqgan_oracle"
    assert page.metric[0].label == "Oracle NLL of these samples" and float(page.metric[0].value) > 0
    ids = page.code[0].value.splitlines()
    assert len(ids) == 10 and all(len(line.split()) == 20 for line in ids)


def test_poems_side_by_side_with_their_nearest_training_quatrains_and_curves(page):
    page.radio(key="sequences.dataset").set_value("tang_poems").run()
    assert not page.exception and not page.error
    left, right = (page.selectbox(key=f"sequences.model.{index}").value.label for index in (0, 1))
    assert {left, right} == {"seqgan-poems (shipped) · 9 steps on tang_poems",
                             "seqgan-poems-mle-only (shipped) · 6 steps on tang_poems"}
    tables = [element.value for element in page.dataframe]
    assert len(tables) == 2 and all(len(table) == 10 for table in tables)
    for table in tables:
        assert all(len(sample) == 20 and len(near) == 20 for sample, near in
                   zip(table["sample"], table["nearest training sequence"]))
        assert all(0 <= d <= 20 for d in table["positions that differ"])
    assert len(page.get("plotly_chart")) == 1  # held-out NLL of both runs (real text has no oracle curve)


def test_temperature_and_count_change_the_samples(page):
    page.radio(key="sequences.dataset").set_value("tang_poems").run()
    before = list(page.dataframe[0].value["sample"])
    page.slider(key="sequences.temperature").set_value(0.3).run()
    page.slider(key="sequences.count").set_value(4).run()
    assert not page.exception
    after = list(page.dataframe[0].value["sample"])
    assert len(after) == 4 and after != before[:4]
