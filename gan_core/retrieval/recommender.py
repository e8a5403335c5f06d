"""A trained ranking checkpoint put back together with the installed data: what the CLI's `sample --user`
and the /recommend page use.

The checkpoint holds only embeddings (G, D and the BPR baseline) and the config; ratings, titles and the split
come from the installed MovieLens files, read again here (`data_root` of the run, or the installed wheel), so
nothing the dataset's terms forbid to redistribute is ever in a checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from gan_core.checkpoints import LoadedGenerator, load_generator
from gan_core.data.catalogue import load_dataset
from gan_core.data.movielens_100k import RatingsData
from gan_core.errors import CheckpointError, ConfigError
from gan_core.registry import get_variant
from gan_core.retrieval.metrics import ranking_metrics
from gan_core.retrieval.samples import RankedItem, ranked_list, user_index
from gan_core.retrieval.split import RankingTask

RANKER_TITLES = {"generator": "IRGAN (generator)", "discriminator": "IRGAN (discriminator)", "bpr": "BPR"}


@dataclass
class Recommender:
    """A checkpoint's rankers with the data and split they were trained on."""

    loaded: LoadedGenerator
    data: RatingsData
    task: RankingTask

    @property
    def rankers(self) -> nn.ModuleDict:
        return self.loaded.generator

    @property
    def user_ids(self) -> tuple[str, ...]:
        return self.data.ratings.user_ids

    def row(self, user: str | int) -> int:
        """The model's row of a MovieLens user id (1..943), or a ConfigError naming the valid range."""
        return user_index(self.data.ratings, user)

    @torch.no_grad()
    def scores(self, user: str | int, ranker: str = "generator") -> torch.Tensor:
        if ranker not in self.rankers:
            raise ConfigError(f"unknown ranker {ranker!r}; this checkpoint holds {', '.join(self.rankers)}")
        return self.rankers[ranker].all_scores(torch.tensor([self.row(user)]))[0]

    def top(self, user: str | int, n: int = 10, ranker: str = "generator") -> list[RankedItem]:
        """The user's top-`n` movies not rated in training, held-out hits marked."""
        row = self.row(user)
        return ranked_list(self.scores(user, ranker), self.task.seen[row], self.data.ratings, n, self.task.held_out[row])

    def liked(self, user: str | int) -> list[tuple[str, str, str]]:
        """(movie id, title, genres) of the user's relevant training ratings, in id order."""
        ratings = self.data.ratings
        items = self.task.relevant[self.row(user)].nonzero().squeeze(1).tolist()
        return [(ratings.item_ids[i], ratings.titles[i], ratings.genres[i]) for i in items]

    def user_metrics(self, user: str | int, ranker: str = "generator", ks: tuple[int, ...] = (5,)) -> dict[str, float] | None:
        """P@k and NDCG@k of one user's ranking; None when the user has no relevant held-out movie."""
        row = self.row(user)
        if not bool((self.task.held_out[row] & ~self.task.seen[row]).any()):
            return None
        rows = slice(row, row + 1)
        return ranking_metrics(self.scores(user, ranker).unsqueeze(0), self.task.seen[rows], self.task.held_out[rows], ks)


def load_recommender(path: Path | str, data_root: str | None = None) -> Recommender:
    """A ranking checkpoint and its data; `data_root` overrides the folder the run read the ratings from."""
    loaded = load_generator(Path(path))
    spec = get_variant(loaded.variant)
    if spec.data != "ratings":
        raise CheckpointError(f"{Path(path).name} is a {spec.title} checkpoint: it draws {spec.sample_kind.description}, "
                              "not ranked lists for users")
    config = loaded.config
    data = load_dataset(config.dataset, 0, data_root or config.data_root)
    expected = (loaded.dataset.details.get("n_users"), loaded.dataset.details.get("n_items"))
    if expected != (data.n_users, data.n_items):
        raise CheckpointError(f"{Path(path).name} was trained on {expected[0]} users × {expected[1]} items, but the "
                              f"installed {config.dataset} has {data.n_users} × {data.n_items}")
    return Recommender(loaded, data, data.task(config.extra.get("split", "test")))
