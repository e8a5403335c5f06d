"""The paper's protocol as data: a fixed random 80/20 split of each user's ratings, and dense masks.

Issue #23's protocol, after the paper: each user's ratings are split at random, 80% for training and
20% held out (the released code ships one 80/20 split as two files, 80,000 and 20,000 ratings); a rating
of at least `min_rating` stars makes an item relevant (the code's `r > 3.99`); at test time every item
the user has not rated in training is ranked. Everything downstream (training, sampling, metrics) works
on dense `[users, items]` boolean masks: 943 × 1,682 is small, and full-matrix operations replace
Python loops over users.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gan_core.retrieval.movielens import Ratings

SPLIT_SEED = 2017  # fixed: every model and every training seed sees the same split
HELD_OUT_FRACTION = 0.2
RELEVANT_MIN_RATING = 4.0


@dataclass(frozen=True)
class RankingTask:
    """What a ranker learns from and is judged on, as `[users, items]` boolean masks.

    `seen`: rated in the training part (excluded from rankings and recommendations).
    `relevant`: rated ≥ the threshold in the training part (the positives models learn from).
    `held_out`: rated ≥ the threshold in the held-out part (what a good ranking puts first).
    """

    seen: torch.Tensor
    relevant: torch.Tensor
    held_out: torch.Tensor

    @property
    def n_users(self) -> int:
        return self.seen.shape[0]

    @property
    def n_items(self) -> int:
        return self.seen.shape[1]


def held_out_mask(users: np.ndarray, fraction: float = HELD_OUT_FRACTION, seed: int = SPLIT_SEED) -> np.ndarray:
    """True for the ratings held out: round(fraction × n_u) of each user's n_u ratings, drawn at random.

    Per user, not global, so every user keeps 80% of their history for training and has a test part.
    The draw depends only on `seed` and the order of the ratings, so the split is fixed.
    """
    rng = np.random.default_rng(seed)
    keys = rng.random(users.size)
    order = np.lexsort((keys, users))  # by user, random within a user
    counts = np.bincount(users)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    position = np.arange(users.size) - starts[users[order]]
    take = np.floor(fraction * counts + 0.5).astype(np.int64)
    mask = np.zeros(users.size, dtype=bool)
    mask[order] = position < take[users[order]]
    return mask


def _dense(ratings: Ratings, rows: np.ndarray) -> torch.Tensor:
    mask = torch.zeros(ratings.n_users, ratings.n_items, dtype=torch.bool)
    mask[torch.from_numpy(ratings.users[rows]), torch.from_numpy(ratings.items[rows])] = True
    return mask


def ranking_task(ratings: Ratings, train_rows: np.ndarray, held_rows: np.ndarray,
                 min_rating: float = RELEVANT_MIN_RATING) -> RankingTask:
    """Masks from two disjoint boolean row selections of `ratings`."""
    good = ratings.values >= min_rating
    return RankingTask(seen=_dense(ratings, train_rows), relevant=_dense(ratings, train_rows & good),
                       held_out=_dense(ratings, held_rows & good))


def evaluation_tasks(ratings: Ratings, min_rating: float = RELEVANT_MIN_RATING,
                              seed: int = SPLIT_SEED) -> tuple[RankingTask, RankingTask]:
    """The test task (80% train / 20% test) and a validation task carved from the 80% the same way.

    Settings are tuned on the validation task (trained on 64% of the ratings, judged on 16%), so the
    test part is only ever used for the final table.
    """
    test = held_out_mask(ratings.users, seed=seed)
    train = ~test
    validation = np.zeros_like(test)
    train_index = np.flatnonzero(train)
    validation[train_index] = held_out_mask(ratings.users[train_index], seed=seed + 1)
    fit = train & ~validation
    return ranking_task(ratings, train, test, min_rating), ranking_task(ratings, fit, validation, min_rating)
