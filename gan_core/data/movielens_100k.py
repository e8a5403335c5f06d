"""MovieLens-100K as training data for a ranking variant: the ratings, the fixed test split and the
validation split carved from its training part (the protocol of `gan_core.retrieval.split`).

The files are read in place from the installed `recbole` wheel (or from `data_root`, a folder holding
`ml-100k.inter` and `ml-100k.item` in the same format); they are never copied, since MovieLens' terms do
not allow redistribution (docs/movielens-100k.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gan_core.errors import ConfigError
from gan_core.retrieval.movielens import Ratings, load_movielens
from gan_core.retrieval.split import RankingTask, evaluation_tasks

Split = Literal["test", "validation"]
SPLITS = ("validation", "test")
DESCRIPTION = ("MovieLens-100K: 943 users' 100,000 ratings of 1,682 movies, read from the installed recbole wheel "
               "(pip install --no-deps recbole==1.2.1)")


@dataclass(frozen=True)
class RatingsData:
    """Ratings with the two tasks a ranker is trained and judged on.

    `test`: trained on 80% of each user's ratings, judged on the other 20% (the final table's split).
    `validation`: trained on 64%, judged on 16% carved from the 80% (the split settings are tuned on).
    """

    name: str
    ratings: Ratings
    test: RankingTask
    validation: RankingTask

    def task(self, split: str) -> RankingTask:
        if split not in SPLITS:
            raise ConfigError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
        return self.test if split == "test" else self.validation

    @property
    def n_users(self) -> int:
        return self.ratings.n_users

    @property
    def n_items(self) -> int:
        return self.ratings.n_items


def load_ml100k(image_size: int = 0, root: str | None = None) -> RatingsData:
    """The catalogue's loader: `image_size` is ignored (ratings have none); `root` replaces the installed folder."""
    ratings = load_movielens(root)
    test, validation = evaluation_tasks(ratings)
    return RatingsData("ml100k", ratings, test, validation)
