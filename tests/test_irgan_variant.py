"""IRGAN as a variant (issue #23): trained by the generic trainer on a small MovieLens-format folder the test
writes, resumed exactly, saved and sampled through the CLI, and bad input answered with clear messages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gan_core.checkpoints import load_generator
from gan_core.cli import main
from gan_core.errors import CheckpointError, ConfigError, DatasetUnavailableError
from gan_core.registry import config_for, get_variant
from gan_core.retrieval.recommender import load_recommender
from gan_core.training import train

USERS, ITEMS = 30, 40
TINY = {"steps": 8, "batch_size": 8, "device": "cpu", "log_every": 2, "sample_every": 4, "checkpoint_every": 4,
        "pretrain_epochs": 1, "bpr_epochs": 1, "pretrain_batch": 64, "warmup_steps": 2, "eval_every": 3, "split": "test"}


def write_ratings(folder: Path, seed: int = 0) -> Path:
    """A MovieLens-format folder: 30 users each rating 15 of 40 movies, tab-separated with typed headers."""
    rng = np.random.default_rng(seed)
    rows = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    for user in range(1, USERS + 1):
        for item in rng.choice(np.arange(1, ITEMS + 1), 15, replace=False):
            rows.append(f"{user}\t{item}\t{int(rng.integers(1, 6))}\t{880000000 + user}")
    items = ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"]
    items += [f"{item}\tMovie {item}\t1995\tDrama" for item in range(1, ITEMS + 1)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ml-100k.inter").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "ml-100k.item").write_text("\n".join(items) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def ratings_folder(tmp_path_factory) -> Path:
    return write_ratings(tmp_path_factory.mktemp("ml") / "ml-100k")


@pytest.fixture(scope="module")
def run(tmp_path_factory, ratings_folder) -> Path:
    out = tmp_path_factory.mktemp("irgan") / "run"
    torch.set_num_threads(2)  # as conftest sets for every test: the resume test compares runs at one thread count
    result = train(config_for("irgan", data_root=str(ratings_folder), **TINY), out)
    assert result.status == "finished", result.message
    return out


def test_training_logs_the_curves_and_writes_ranked_list_previews(run):
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [2, 4, 6, 8]
    for name in ("D_loss", "reward_mean", "held_out_P@5", "G_loss"):
        assert all(np.isfinite(row[name]) for row in rows), name
    assert rows[-1]["G_loss"] != 0.0, "G moves after the warm-up"
    preview = json.loads((run / "samples" / "step_00000008.json").read_text())
    assert preview and {"user", "rank", "item_id", "title", "score", "held_out_hit"} <= set(preview[0])


def test_resume_continues_exactly(tmp_path, ratings_folder, run):
    config = config_for("irgan", data_root=str(ratings_folder), **{**TINY, "steps": 4})
    half = tmp_path / "half"
    assert train(config, half).status == "finished"
    assert train(config.replace(steps=8), half, resume=True).status == "finished"
    straight, resumed = load_file(str(run / "generator.safetensors")), load_file(str(half / "generator.safetensors"))
    assert straight.keys() == resumed.keys() == {f"{ranker}.{name}" for ranker in ("generator", "discriminator", "bpr")
                                                 for name in ("user_embedding", "item_embedding", "item_bias")}
    for key in straight:
        assert (straight[key] == resumed[key]).all(), key


def test_checkpoint_holds_embeddings_and_counts_but_no_ratings_or_titles(run):
    loaded = load_generator(run / "generator.safetensors")
    assert loaded.dataset.details == {"n_users": USERS, "n_items": ITEMS}
    assert loaded.dataset.image_shape is None
    raw = (run / "generator.safetensors").read_bytes()
    assert b"Movie 1" not in raw


def test_recommendations_exclude_training_movies_and_mark_held_out_hits(run):
    recommender = load_recommender(run / "generator.safetensors")
    for user in ("1", "17", "30"):
        row = recommender.row(user)
        items = recommender.top(user, 10)
        assert len(items) == 10 and [item.rank for item in items] == list(range(1, 11))
        indices = [recommender.data.ratings.item_ids.index(item.item_id) for item in items]
        assert not recommender.task.seen[row, indices].any()
        assert [item.held_out_hit for item in items] == recommender.task.held_out[row, indices].tolist()
        scores = [item.score for item in items]
        assert scores == sorted(scores, reverse=True)
    assert recommender.top("3", 5, "bpr") and recommender.liked("3")


def test_cli_prints_and_writes_a_users_top_list(run, tmp_path, capsys):
    checkpoint = str(run / "generator.safetensors")
    assert main(["sample", "--checkpoint", checkpoint, "--user", "5", "--n", "4"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and lines[0].split()[0] == "1" and "Movie" in lines[0]
    out = tmp_path / "top.json"
    assert main(["sample", "--checkpoint", checkpoint, "--user", "5", "--n", "10", "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written["user"] == "5" and len(written["items"]) == 10
    assert [item["item_id"] for item in written["items"][:4]] == [line.split()[1] for line in lines]


@pytest.mark.parametrize("arguments, message", [
    (["--user", "31"], "unknown user '31'"),
    (["--user", "abc"], "unknown user"),
    ([], "--user"),
    (["--user", "2", "--n", "0"], "at least 1"),
    (["--user", "2", "--out", "x.txt"], ".json"),
])
def test_bad_sample_requests_get_one_line(run, capsys, arguments, message):
    assert main(["sample", "--checkpoint", str(run / "generator.safetensors"), *arguments]) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_a_damaged_checkpoint_is_refused_clearly(run, tmp_path, capsys):
    damaged = tmp_path / "damaged.safetensors"
    raw = (run / "generator.safetensors").read_bytes()
    damaged.write_bytes(raw[: len(raw) - 200])
    with pytest.raises(CheckpointError):
        load_recommender(damaged)
    assert main(["sample", "--checkpoint", str(damaged), "--user", "1"]) == 2
    assert "error:" in capsys.readouterr().err


def test_missing_data_says_how_to_install_it(run, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(run, moved)
    config = json.loads((moved / "config.json").read_text())
    with pytest.raises(DatasetUnavailableError, match="pip install --no-deps recbole"):
        load_recommender(moved / "generator.safetensors", data_root=str(tmp_path / "nowhere"))
    assert config["variant"] == "irgan"


def test_a_checkpoint_for_other_data_is_refused(run, tmp_path):
    other = write_ratings(tmp_path / "other", seed=1)
    (other / "ml-100k.inter").write_text((other / "ml-100k.inter").read_text() + "31\t1\t5\t1\n", encoding="utf-8")
    with pytest.raises(CheckpointError, match="31 × 40"):
        load_recommender(run / "generator.safetensors", data_root=str(other))


def test_irgan_reads_its_own_settings_and_refuses_image_ones():
    spec = get_variant("irgan")
    assert spec.datasets() == {"ml100k": spec.datasets()["ml100k"]}
    assert "ml100k" not in get_variant("dcgan").datasets()
    with pytest.raises(ConfigError, match="does not read image_size"):
        config_for("irgan", image_size=32)
    with pytest.raises(ConfigError, match="Split must be one of validation, test"):
        config_for("irgan", split="train")
