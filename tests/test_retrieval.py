"""The retrieval engine of issue #23: MovieLens reader, fixed split, ranking metrics, IRGAN's updates."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from gan_core.errors import ConfigError, DatasetUnavailableError
from gan_core.retrieval import movielens
from gan_core.retrieval.bpr import PairwiseSettings, sample_unlabelled, train_pairwise
from gan_core.retrieval.irgan import IrganModel, IrganSettings
from gan_core.retrieval.metrics import ranking_metrics, top_k
from gan_core.retrieval.movielens import MovieLensUnavailableError, load_movielens
from gan_core.retrieval.samples import ranked_list, user_index
from gan_core.retrieval.split import RankingTask, evaluation_tasks, held_out_mask

INTER = ("user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
         "7\t10\t5\t881250949\n"
         "7\t2\t3\t881250950\n"
         "3\t2\t4\t881250951\n")
ITEMS = ("item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
         "2\tGoldenEye\t1995\tAction Adventure Thriller\n"
         "10\tRichard III\t1995\tDrama War\n"
         "11\tSeven (Se7en)\t1995\tCrime Thriller\n")


def write_dataset(folder: Path, inter: str = INTER, items: str = ITEMS) -> Path:
    (folder / "mini.inter").write_text(inter, encoding="utf-8")
    (folder / "mini.item").write_text(items, encoding="utf-8")
    return folder


# --- the reader ---------------------------------------------------------------------------
def test_reader_maps_tokens_in_numeric_order_with_titles(tmp_path):
    ratings = load_movielens(write_dataset(tmp_path), name="mini")
    assert ratings.user_ids == ("3", "7")
    assert ratings.item_ids == ("2", "10", "11")  # numeric order: "10" after "2"; an unrated item is kept
    assert ratings.users.tolist() == [1, 1, 0]
    assert ratings.items.tolist() == [1, 0, 0]
    assert ratings.values.tolist() == [5.0, 3.0, 4.0]
    assert ratings.titles == ("GoldenEye", "Richard III", "Seven (Se7en)")
    assert ratings.genres[2] == "Crime Thriller"


def test_reader_names_the_line_of_a_corrupt_row(tmp_path):
    broken = INTER + "9\t11\n"
    with pytest.raises(MovieLensUnavailableError, match=r"mini.inter line 5: 2 cells .* corrupt"):
        load_movielens(write_dataset(tmp_path, inter=broken), name="mini")


def test_reader_refuses_an_untyped_header_and_a_non_numeric_rating(tmp_path):
    with pytest.raises(MovieLensUnavailableError, match="line 1: header field 'user_id'"):
        load_movielens(write_dataset(tmp_path, inter=INTER.replace("user_id:token", "user_id")), name="mini")
    with pytest.raises(MovieLensUnavailableError, match="not a number"):
        load_movielens(write_dataset(tmp_path, inter=INTER.replace("\t5\t", "\tfive\t")), name="mini")


def test_missing_files_say_how_to_install_them(tmp_path, monkeypatch):
    with pytest.raises(DatasetUnavailableError, match=r"pip install --no-deps recbole==1\.2\.1"):
        load_movielens(tmp_path, name="mini")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(movielens.importlib.util, "find_spec",
                        lambda name, *a: None if name == "recbole" else real_find_spec(name, *a))
    with pytest.raises(MovieLensUnavailableError, match=r"not installed: install it with `pip install --no-deps recbole==1\.2\.1`"):
        load_movielens()


@pytest.mark.skipif(importlib.util.find_spec("recbole") is None, reason="MovieLens-100K (recbole wheel) not installed")
def test_the_installed_movielens_100k_has_its_published_size():
    ratings = load_movielens()
    assert (ratings.n_users, ratings.n_items, ratings.values.size) == (943, 1682, 100_000)
    assert ratings.titles[0] == "Toy Story"
    test, validation = evaluation_tasks(ratings)
    assert not bool((test.seen & test.held_out).any())  # held-out items are never training items
    assert not bool((validation.seen & validation.held_out).any())
    assert not bool((validation.held_out & test.held_out).any())  # validation is carved from training only


# --- the split ------------------------------------------------------------------------------
def test_split_is_fixed_and_per_user():
    users = np.repeat(np.arange(4), [10, 5, 1, 23])
    np.random.default_rng(0).shuffle(users)
    first, again = held_out_mask(users), held_out_mask(users)
    assert np.array_equal(first, again)
    assert [int(first[users == u].sum()) for u in range(4)] == [2, 1, 0, 5]  # round(0.2 n) of each user's ratings
    other = held_out_mask(users, seed=123)
    assert [int(other[users == u].sum()) for u in range(4)] == [2, 1, 0, 5]
    assert not np.array_equal(first, other)


# --- metrics ----------------------------------------------------------------------------------
def one_user(scores: list[float], relevant: list[int], exclude: list[int] = ()) -> tuple[torch.Tensor, ...]:
    n = len(scores)
    rel = torch.zeros(1, n, dtype=torch.bool)
    rel[0, list(relevant)] = True
    exc = torch.zeros(1, n, dtype=torch.bool)
    exc[0, list(exclude)] = True
    return torch.tensor([scores]), exc, rel


def test_precision_and_ndcg_on_a_hand_computed_ranking():
    scores, exclude, relevant = one_user([0.9, 0.8, 0.7, 0.6, 0.5], relevant=[0, 2])
    result = ranking_metrics(scores, exclude, relevant, ks=(1, 3))
    assert result["P@1"] == pytest.approx(1.0)
    assert result["P@3"] == pytest.approx(2 / 3)
    assert result["NDCG@3"] == pytest.approx((1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3)))


def test_excluded_items_are_skipped_before_ranking():
    scores, exclude, relevant = one_user([0.9, 0.8, 0.7, 0.6], relevant=[1], exclude=[0])
    result = ranking_metrics(scores, exclude, relevant, ks=(1,))
    assert result["P@1"] == pytest.approx(1.0) and result["NDCG@1"] == pytest.approx(1.0)


def test_ties_count_their_expected_value_whatever_the_item_order():
    # items 1 and 2 tie at positions 2-3; only item 2 is relevant: each tied position gains 1/2 on average
    for relevant_item in (1, 2):
        scores, exclude, relevant = one_user([0.9, 0.5, 0.5, 0.1], relevant=[relevant_item])
        result = ranking_metrics(scores, exclude, relevant, ks=(1, 2, 3))
        assert result["P@1"] == pytest.approx(0.0)
        assert result["P@2"] == pytest.approx(0.25)
        assert result["P@3"] == pytest.approx(1 / 3)
        assert result["NDCG@2"] == pytest.approx(0.5 / math.log2(3))
        assert result["NDCG@3"] == pytest.approx(0.5 / math.log2(3) + 0.5 / math.log2(4))


def test_users_without_relevant_items_are_left_out_of_the_mean():
    scores = torch.tensor([[0.9, 0.1], [0.9, 0.1]])
    relevant = torch.tensor([[True, False], [False, False]])
    result = ranking_metrics(scores, torch.zeros(2, 2, dtype=torch.bool), relevant, ks=(1,))
    assert result["P@1"] == pytest.approx(1.0)


# --- IRGAN --------------------------------------------------------------------------------------
def toy_task(n_users: int = 3, n_items: int = 6) -> RankingTask:
    seen = torch.zeros(n_users, n_items, dtype=torch.bool)
    seen[:, :2] = True  # every user rated items 0 and 1 in training
    relevant = seen.clone()
    relevant[:, 1] = False  # ... and found only item 0 relevant
    held_out = torch.zeros_like(seen)
    held_out[:, 3] = True
    return RankingTask(seen=seen, relevant=relevant, held_out=held_out)


def toy_model(settings: IrganSettings, task: RankingTask) -> IrganModel:
    torch.manual_seed(0)
    model = IrganModel(settings, task.n_users, task.n_items)
    model.attach_interactions(task)
    model.attach_optimizers(model.configure_optimizers())
    return model


def generator_probability(model: IrganModel, user: int, item: int) -> float:
    return torch.softmax(model.scores("generator", torch.tensor([user])), dim=1)[0, item].item()


def test_the_policy_gradient_step_raises_the_probability_of_a_rewarded_item():
    task = toy_task()
    settings = IrganSettings(optimizer="sgd", lr_g=0.5, samples_per_relevant=64)
    model = toy_model(settings, task)
    with torch.no_grad():  # D rewards item 4 only: f = +6 there, −6 elsewhere
        model.discriminator.user_embedding.zero_()
        model.discriminator.item_bias.fill_(-6.0)
        model.discriminator.item_bias[4] = 6.0
    before = generator_probability(model, 0, 4)
    for _ in range(3):
        logs = model.generator_step(torch.tensor([0, 1, 2]))
    after = generator_probability(model, 0, 4)
    assert after > before + 0.05
    assert set(logs) == {"G_loss", "reward_mean", "reward_raw_mean"}


def test_train_step_returns_named_scalars_and_moves_the_discriminator():
    model = toy_model(IrganSettings(users_per_batch=2, d_warmup_steps=1), toy_task())
    before = model.discriminator.item_bias.detach().clone()
    generator_before = model.generator.item_embedding.detach().clone()
    logs = model.train_step(model.user_batches())  # the warm-up step: D only
    assert set(logs) == {"D_loss", "D(real)", "D(fake)"}
    assert torch.equal(generator_before, model.generator.item_embedding)
    logs = model.train_step(model.user_batches())
    assert {"D_loss", "D(real)", "D(fake)", "G_loss", "reward_mean"} <= set(logs)
    assert not torch.equal(generator_before, model.generator.item_embedding)
    assert all(value.ndim == 0 and torch.isfinite(value) for value in logs.values())
    assert not torch.equal(before, model.discriminator.item_bias)


def test_recommendations_never_include_training_items():
    task = toy_task()
    model = toy_model(IrganSettings(), task)
    with torch.no_grad():
        model.generator.item_bias.copy_(torch.tensor([9.0, 8.0, 0.0, 1.0, 2.0, 3.0]))  # G prefers seen items 0, 1
    items, _ = model.recommend(torch.arange(3), k=4)
    assert items.tolist() == [[5, 4, 3, 2]] * 3
    assert top_k(torch.tensor([[1.0, 1.0, 0.5]]), torch.zeros(1, 3, dtype=torch.bool), 2)[0].tolist() == [[0, 1]]


def test_discriminator_negatives_include_training_items_only_where_the_paper_does():
    task = toy_task()
    for exclude in (False, True):
        model = toy_model(IrganSettings(exclude_seen_negatives=exclude), task)
        with torch.no_grad():
            model.generator.item_bias.copy_(torch.tensor([0.0, 3.0, 0.0, 0.0, 0.0, 0.0]))  # G favours seen item 1
        negatives = torch.cat([model.sample_negatives(torch.arange(3))[2] for _ in range(50)])
        drew_seen = bool(task.seen[0, negatives].any())
        assert drew_seen is not exclude  # the released code draws from all items; the option excludes training ones


def test_state_dict_round_trip_through_safetensors_gives_identical_scores(tmp_path):
    task = toy_task()
    model = toy_model(IrganSettings(users_per_batch=2), task)
    for _ in range(3):
        model.train_step(model.user_batches())
    state = model.state_dict()
    assert set(state) == {f"{player}.{name}" for player in ("generator", "discriminator")
                          for name in ("user_embedding", "item_embedding", "item_bias")}  # no MovieLens data inside
    save_file(state, tmp_path / "irgan.safetensors")
    restored = IrganModel(IrganSettings(users_per_batch=2), task.n_users, task.n_items)
    restored.load_state_dict(load_file(tmp_path / "irgan.safetensors"))
    restored.attach_interactions(task)
    for player in ("generator", "discriminator"):
        assert torch.equal(model.scores(player), restored.scores(player))
    assert torch.equal(model.recommend(torch.arange(3), 3)[0], restored.recommend(torch.arange(3), 3)[0])


def test_bad_settings_and_users_out_of_range_are_refused():
    with pytest.raises(ConfigError, match="importance_mix"):
        IrganSettings(importance_mix=1.0)
    with pytest.raises(ConfigError, match="reward"):
        IrganSettings(reward="hinge")
    assert IrganSettings.from_dict(IrganSettings(lr_g=0.5).to_dict()) == IrganSettings(lr_g=0.5)
    with pytest.raises(ConfigError, match="unknown IRGAN setting"):
        IrganSettings.from_dict({"learning_rate": 0.1})
    model = toy_model(IrganSettings(), toy_task())
    with pytest.raises(ConfigError, match="users 0..2"):
        model.recommend(torch.tensor([3]))


# --- the pairwise baselines -----------------------------------------------------------------------
def test_unlabelled_samples_avoid_relevant_items():
    relevant = torch.zeros(2, 8, dtype=torch.bool)
    relevant[0, :4] = True
    items = sample_unlabelled(relevant, torch.tensor([0, 1]), 100, torch.Generator().manual_seed(0))
    assert items[0].ge(4).all()
    assert set(items[1].tolist()) == set(range(8))  # a user without relevant items draws from all of them


def test_bpr_learns_a_planted_preference():
    # two groups of users like two disjoint halves of the items; each user's one held-out item of their half
    # must rank above the other half's items
    liked = torch.zeros(20, 10, dtype=torch.bool)
    liked[:10, :5] = True
    liked[10:, 5:] = True
    held_out = torch.zeros_like(liked)
    held_out[torch.arange(20), torch.arange(20) % 5 + 5 * (torch.arange(20) >= 10)] = True
    relevant = liked & ~held_out
    model = train_pairwise(relevant, PairwiseSettings(dim=4, epochs=60, batch_size=16, lr=0.05, l2=0.0), seed=0)
    result = ranking_metrics(model.all_scores().detach(), relevant, held_out, ks=(1,))
    assert result["P@1"] > 0.9


# --- the sample: a ranked list ------------------------------------------------------------------------
def test_a_ranked_list_names_unseen_items_and_marks_held_out_hits(tmp_path):
    ratings = load_movielens(write_dataset(tmp_path), name="mini")
    user = user_index(ratings, 7)
    seen = torch.tensor([True, True, False])  # user 7 rated items "2" and "10"
    held_out = torch.tensor([False, False, True])
    entries = ranked_list(torch.tensor([5.0, 4.0, 1.0]), seen, ratings, k=10, held_out=held_out)
    assert user == 1
    assert [(e.rank, e.item_id, e.title, e.held_out_hit) for e in entries] == [(1, "11", "Seven (Se7en)", True)]
    assert entries[0].to_dict()["score"] == 1.0
    with pytest.raises(ConfigError, match=r"unknown user '99': MovieLens-100K users are 3\.\.7"):
        user_index(ratings, 99)


def test_resuming_from_state_dicts_and_the_rng_continues_exactly():
    """What the trainer saves (model and optimizer state, the CPU RNG, the step) is all IRGAN's training needs."""
    task = toy_task(n_users=4)
    settings = IrganSettings(users_per_batch=2, d_warmup_steps=2)

    def run(model: IrganModel, steps: range) -> None:
        batches = model.user_batches()
        for step in steps:
            model.prepare_step(step)
            model.train_step(batches)

    straight = toy_model(settings, task)
    run(straight, range(6))
    first = toy_model(settings, task)
    run(first, range(3))
    saved = {"model": {k: v.clone() for k, v in first.state_dict().items()}, "rng": torch.get_rng_state(),
             "optimizers": {name: opt.state_dict() for name, opt in first.optimizers.items()}}
    torch.manual_seed(1234)  # anything drawn in between must not matter
    resumed = IrganModel(settings, task.n_users, task.n_items)
    resumed.attach_interactions(task)
    resumed.load_state_dict(saved["model"])
    resumed.attach_optimizers(resumed.configure_optimizers())
    for name, optimizer in resumed.optimizers.items():
        optimizer.load_state_dict(saved["optimizers"][name])
    torch.set_rng_state(saved["rng"])
    run(resumed, range(3, 6))
    for name, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), name
