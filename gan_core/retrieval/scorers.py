"""The rankers' scoring functions: matrix factorisation (used by BPR, the pre-trained model, IRGAN's G
and D alike) and item popularity.

IRGAN's generator and discriminator are both the same small model, a user vector dotted with an item
vector plus an item bias; they differ only in how they are trained and read (a softmax over items for
G, a sigmoid of one score for D). The paper initialises fresh embeddings uniformly in ±0.05.
"""

from __future__ import annotations

import torch
from torch import nn

INIT_SCALE = 0.05


class MatrixFactorization(nn.Module):
    """score(u, i) = ⟨p_u, q_i⟩ + b_i, for given pairs or for every item at once."""

    def __init__(self, n_users: int, n_items: int, dim: int, init_scale: float = INIT_SCALE,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.user_embedding = nn.Parameter(torch.empty(n_users, dim).uniform_(-init_scale, init_scale, generator=generator))
        self.item_embedding = nn.Parameter(torch.empty(n_items, dim).uniform_(-init_scale, init_scale, generator=generator))
        self.item_bias = nn.Parameter(torch.zeros(n_items))

    @property
    def n_users(self) -> int:
        return self.user_embedding.shape[0]

    @property
    def n_items(self) -> int:
        return self.item_embedding.shape[0]

    @property
    def dim(self) -> int:
        return self.user_embedding.shape[1]

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Scores of pairs: `users` and `items` broadcast together (e.g. `[n, 1]` with `[n, m]`)."""
        return (self.user_embedding[users] * self.item_embedding[items]).sum(-1) + self.item_bias[items]

    def all_scores(self, users: torch.Tensor | None = None) -> torch.Tensor:
        """`[len(users), n_items]` scores of every item (all users when `users` is None)."""
        vectors = self.user_embedding if users is None else self.user_embedding[users]
        return vectors @ self.item_embedding.T + self.item_bias

    def squared_norms(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """½(‖p_u‖² + ‖q_i‖² + b_i²) per pair: the L2 penalty the paper adds per training example."""
        return 0.5 * (self.user_embedding[users].square().sum(-1) + self.item_embedding[items].square().sum(-1)
                      + self.item_bias[items].square())


def popularity_scores(relevant: torch.Tensor) -> torch.Tensor:
    """`[users, items]`: how many users found each item relevant in training, the same for every user."""
    counts = relevant.float().sum(0)
    return counts.expand(relevant.shape[0], -1)
