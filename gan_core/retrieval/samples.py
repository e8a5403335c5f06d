"""A retrieval model's "sample": one user's ranked top-k list, with the names a person reads.

What the CLI prints (`sample --user U --n 10`), what `--out F.json` writes and what the /recommend page
shows are all this list. Titles and genres come from the installed MovieLens files, never from a
checkpoint.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from gan_core.errors import ConfigError
from gan_core.retrieval.metrics import top_k
from gan_core.retrieval.movielens import Ratings


@dataclass(frozen=True)
class RankedItem:
    rank: int  # 1-based
    item_id: str  # the dataset's own token (MovieLens movie id)
    title: str
    genres: str
    score: float
    held_out_hit: bool | None  # relevant in the held-out part; None when not known

    def to_dict(self) -> dict:
        return asdict(self)


def user_index(ratings: Ratings, user_id: str | int) -> int:
    """The row of a MovieLens user id (as in the data: 1..943), or a clear error."""
    token = str(user_id)
    try:
        return ratings.user_ids.index(token)
    except ValueError:
        raise ConfigError(f"unknown user {token!r}: MovieLens-100K users are "
                          f"{ratings.user_ids[0]}..{ratings.user_ids[-1]}") from None


def ranked_list(scores: torch.Tensor, seen: torch.Tensor, ratings: Ratings, k: int,
                held_out: torch.Tensor | None = None) -> list[RankedItem]:
    """One user's top-`k` unseen items from their `[items]` scores and `[items]` training mask (ties: lower index first)."""
    if k < 1:
        raise ConfigError(f"the list length must be at least 1, got {k}")
    items, values = top_k(scores.unsqueeze(0), seen.unsqueeze(0), k)
    return [RankedItem(rank=rank, item_id=ratings.item_ids[item], title=ratings.titles[item], genres=ratings.genres[item],
                       score=float(value), held_out_hit=None if held_out is None else bool(held_out[item]))
            for rank, (item, value) in enumerate(zip(items[0].tolist(), values[0].tolist()), start=1)
            if value != float("-inf")]  # fewer than k unseen items: the list is shorter
