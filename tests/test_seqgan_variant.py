"""SeqGAN as a variant (issue #22): trained by the generic trainer on a small fortune file the test writes (and
a few steps on the oracle), resumed exactly, saved with its vocabulary and sampled through the CLI; bad corpora
and bad requests answered with clear messages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gan_core.checkpoints import load_generator
from gan_core.cli import main
from gan_core.data.catalogue import load_dataset
from gan_core.errors import ConfigError, DatasetUnavailableError
from gan_core.registry import config_for, get_variant
from gan_core.sequence.sampling import load_sequence_model, nearest_training_sequences
from gan_core.training import train

CHARACTERS = "春眠不觉晓处闻啼鸟夜来风雨声花落知多少床前明月光疑是地上霜举头望低思故乡"
# 6 MLE steps (2 epochs of 3 batches), 1 round of D pre-training, then adversarial epochs.
TINY = {"steps": 9, "batch_size": 8, "device": "cpu", "log_every": 3, "sample_every": 3, "checkpoint_every": 3,
        "pretrain_epochs": 2, "d_pretrain_rounds": 1, "d_negatives": 16, "rollout_count": 2, "d_filter_share": 0.05,
        "eval_every": 2, "eval_samples": 16}


def write_fortunes(path: Path, poems: int = 8, seed: int = 0) -> Path:
    """A fortune file like tang300: colour-coded title and author lines, then 8 five-character lines a poem."""
    rng = np.random.default_rng(seed)
    entries = []
    for number in range(poems):
        lines = ["".join(rng.choice(list(CHARACTERS), 5)) for _ in range(8)]
        body = "\n".join(f"{lines[i]}，{lines[i + 1]}。" for i in range(0, 8, 2))
        entries.append(f"\x1b[32m《诗{number}》\x1b[m\n\x1b[33m作者：某\x1b[m\n{body}")
    path.write_text("\n%\n".join(entries) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_fortunes(tmp_path_factory.mktemp("poems") / "poems")


@pytest.fixture(scope="module")
def run(tmp_path_factory, corpus) -> Path:
    out = tmp_path_factory.mktemp("seqgan") / "run"
    torch.set_num_threads(2)  # as conftest sets for every test: the resume test compares runs at one thread count
    result = train(config_for("seqgan", dataset="tang_poems", data_root=str(corpus), **TINY), out)
    assert result.status == "finished", result.message
    return out


def test_training_runs_every_phase_with_finite_curves_and_text_previews(run):
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [3, 6, 9]
    assert rows[-1]["phase"] > 1.0, "the last steps are adversarial (phase 2; the interval's mean is logged)"
    for name in ("MLE_loss", "D_loss", "reward_mean", "PG_loss", "heldout_NLL"):
        assert all(np.isfinite(row[name]) for row in rows), name
    assert rows[-1]["reward_mean"] > 0
    assert "oracle_NLL" not in rows[0], "real text has no oracle"
    lines = (run / "samples" / "step_00000009.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 16 and all(len(line) == 20 and set(line) <= set(CHARACTERS) for line in lines)


def test_resume_continues_exactly(tmp_path, corpus, run):
    config = config_for("seqgan", dataset="tang_poems", data_root=str(corpus), **{**TINY, "steps": 6})
    half = tmp_path / "half"
    assert train(config, half).status == "finished"
    assert train(config.replace(steps=9), half, resume=True).status == "finished"
    straight, resumed = load_file(str(run / "generator.safetensors")), load_file(str(half / "generator.safetensors"))
    assert straight.keys() == resumed.keys()
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key


def test_checkpoint_holds_the_vocabulary_and_samples_without_the_corpus(run, corpus):
    loaded = load_generator(run / "generator.safetensors")
    assert loaded.dataset.details["sequence_length"] == 20
    assert set(loaded.dataset.details["vocabulary"]) == set(load_dataset("tang_poems", 0, str(corpus)).vocabulary)
    model = load_sequence_model(run / "generator.safetensors")
    assert model.sample_lines(4, seed=1) == model.sample_lines(4, seed=1)
    assert model.sample_lines(4, seed=1) != model.sample_lines(4, seed=2)
    greedy = model.sample_lines(3, seed=5, temperature=0.01)
    assert len(set(greedy)) == 1, "near temperature 0 every sample is the most likely sequence"


def test_cli_prints_and_writes_one_sequence_per_line(run, tmp_path, capsys):
    checkpoint = str(run / "generator.safetensors")
    assert main(["sample", "--checkpoint", checkpoint, "--n", "5", "--temperature", "0.7"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and all(len(line) == 20 for line in lines)
    out = tmp_path / "poems.txt"
    assert main(["sample", "--checkpoint", checkpoint, "--n", "5", "--temperature", "0.7", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").splitlines() == lines


@pytest.mark.parametrize("arguments, message", [
    (["--n", "0"], "number of samples"),
    (["--temperature", "0"], "temperature"),
    (["--out", "x.json"], ".txt"),
])
def test_bad_sample_requests_get_one_line(run, capsys, arguments, message):
    assert main(["sample", "--checkpoint", str(run / "generator.safetensors"), *arguments]) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_an_empty_corpus_and_a_wrong_encoding_are_explained(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.write_text("no poems here\n%\nnor here\n", encoding="utf-8")
    with pytest.raises(DatasetUnavailableError, match="five-character poem"):
        load_dataset("tang_poems", 0, str(empty))
    legacy = tmp_path / "gb"
    legacy.write_bytes(write_fortunes(tmp_path / "utf8").read_text(encoding="utf-8").encode("gb18030"))
    with pytest.raises(DatasetUnavailableError, match="iconv"):
        load_dataset("tang_poems", 0, str(legacy))
    assert main(["train", "--variant", "seqgan", "--dataset", "tang_poems", "--data-root", str(legacy),
                 "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_a_few_oracle_steps_log_the_oracle_nll_and_write_ids(tmp_path):
    config = config_for("seqgan", **{**TINY, "pretrain_epochs": 0, "steps": 2, "log_every": 1})
    assert train(config, tmp_path / "oracle").status == "finished"
    rows = [json.loads(line) for line in (tmp_path / "oracle" / "metrics.jsonl").read_text().splitlines()]
    assert all(np.isfinite(row["oracle_NLL"]) and row["oracle_NLL"] > 0 for row in rows)
    model = load_sequence_model(tmp_path / "oracle" / "generator.safetensors")
    assert model.vocabulary is None and model.oracle_settings["vocab_size"] == 1000
    ids = [int(token) for token in model.sample_lines(2)[0].split()]
    assert len(ids) == 20 and all(0 <= token < 1000 for token in ids)


def test_nearest_training_sequence_counts_differing_positions():
    train_rows = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    index, distance = nearest_training_sequences(torch.tensor([[1, 2, 3, 4], [5, 6, 0, 0], [9, 9, 9, 8]]), train_rows)
    assert index.tolist() == [0, 1, 1] and distance.tolist() == [0, 2, 3]
    with pytest.raises(ConfigError):
        nearest_training_sequences(torch.zeros(1, 3, dtype=torch.long), train_rows)


def test_seqgan_trains_on_token_sequences_only():
    assert set(get_variant("seqgan").datasets()) == {"seqgan_oracle", "tang_poems"}
    with pytest.raises(ConfigError, match="does not read image_size"):
        config_for("seqgan", image_size=32)
