"""Pairwise training of a matrix factorisation: BPR, and the dynamic-negative-sampling variant IRGAN
pre-trains from.

BPR (Rendle et al., 2009) raises a user's relevant item above an item drawn uniformly from those
without positive feedback: loss −log σ(s(u,i) − s(u,j)) plus an L2 penalty. Dynamic negative sampling
(Zhang et al., SIGIR 2013; IRGAN's released code pre-trains its generator with it, 5 candidates) draws
`candidates` such items and keeps the one the current model scores highest, a harder negative.
With `candidates=1` the two are the same, so one function trains both.

Every epoch shuffles all (user, relevant item) pairs and draws negatives for a whole epoch at once;
minibatches are updated with Adam (the paper used plain SGD one pair at a time, far too slow on a CPU
in Python; the number of epochs and the learning rate were tuned on the validation split instead).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gan_core.retrieval.scorers import INIT_SCALE, MatrixFactorization

REJECTION_ROUNDS = 32


@dataclass(frozen=True)
class PairwiseSettings:
    """One pairwise run. Defaults: embedding 5 as in IRGAN's code; the rest tuned on validation."""

    dim: int = 5
    candidates: int = 1  # 1: BPR (uniform negative); >1: dynamic negative sampling with this many candidates
    epochs: int = 30
    batch_size: int = 256
    lr: float = 0.01
    l2: float = 0.01
    init_scale: float = INIT_SCALE


def sample_unlabelled(relevant: torch.Tensor, users: torch.Tensor, count: int, generator: torch.Generator | None = None
                      ) -> torch.Tensor:
    """`[len(users), count]` items drawn uniformly among those each user has no positive feedback on.

    Rejection sampling, vectorised: draws that hit a relevant item are redrawn, a few rounds at most
    (a MovieLens user finds at most a third of the items relevant, so 32 rounds leave a miss with
    probability < 1e-15).
    """
    n_items = relevant.shape[1]
    items = torch.randint(n_items, (users.numel(), count), generator=generator)
    rows = users.unsqueeze(1).expand_as(items)
    for _ in range(REJECTION_ROUNDS):
        bad = relevant[rows, items]
        n_bad = int(bad.sum())
        if n_bad == 0:
            break
        items[bad] = torch.randint(n_items, (n_bad,), generator=generator)
    return items


def positive_pairs(relevant: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """All (user, relevant item) pairs of a `[users, items]` mask, in row-major order."""
    users, items = relevant.nonzero(as_tuple=True)
    return users, items


def train_pairwise(relevant: torch.Tensor, settings: PairwiseSettings, seed: int,
                   on_epoch: Callable[[int, MatrixFactorization], None] | None = None) -> MatrixFactorization:
    """A matrix factorisation trained with BPR / dynamic negative sampling on the `relevant` mask."""
    generator = torch.Generator().manual_seed(seed)
    n_users, n_items = relevant.shape
    model = MatrixFactorization(n_users, n_items, settings.dim, settings.init_scale, generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    users, positives = positive_pairs(relevant)
    for epoch in range(settings.epochs):
        order = torch.randperm(users.numel(), generator=generator)
        epoch_users, epoch_positives = users[order], positives[order]
        candidates = sample_unlabelled(relevant, epoch_users, settings.candidates, generator)
        if settings.candidates > 1:
            with torch.no_grad():
                choice = model(epoch_users.unsqueeze(1), candidates).argmax(1, keepdim=True)
            negatives = candidates.gather(1, choice).squeeze(1)
        else:
            negatives = candidates.squeeze(1)
        for start in range(0, users.numel(), settings.batch_size):
            u = epoch_users[start:start + settings.batch_size]
            i = epoch_positives[start:start + settings.batch_size]
            j = negatives[start:start + settings.batch_size]
            margin = model(u, i) - model(u, j)
            penalty = model.squared_norms(u, i) + model.squared_norms(u, j)
            loss = (-F.logsigmoid(margin) + settings.l2 * penalty).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if on_epoch is not None:
            on_epoch(epoch + 1, model)
    return model
