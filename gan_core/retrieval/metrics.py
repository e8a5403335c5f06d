"""Precision@k and NDCG@k of full rankings, for all users at once, with ties counted fairly.

A ranker scores every item for every user; items the user rated in training are excluded; the rest
are sorted by score. Items with equal scores (a popularity ranker has many) take their expected
value over all orders of the tie (McSherry & Najork, ECIR 2008): each position a tied group spans
gets the group's mean relevance. So no ranker gains or loses from the order items happen to be
stored in. NDCG's ideal ranking puts all of the user's relevant items first, as in the paper's code.
Users without any relevant held-out item are left out of the means (their metrics are undefined).
"""

from __future__ import annotations

import torch

DEFAULT_KS = (3, 5, 10)


def expected_gains(scores: torch.Tensor, exclude: torch.Tensor, relevant: torch.Tensor, depth: int) -> torch.Tensor:
    """`[users, depth]`: the expected relevance at each of the first `depth` positions of each ranking."""
    masked = scores.float().masked_fill(exclude, float("-inf"))
    ordered, order = masked.sort(dim=1, descending=True, stable=True)
    gains = (relevant & ~exclude).float().gather(1, order)
    starts = torch.ones_like(ordered, dtype=torch.bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    n_rows, n_cols = ordered.shape
    device = ordered.device
    groups = (starts.long().cumsum(1) - 1) + torch.arange(n_rows, device=device).unsqueeze(1) * n_cols
    flat = groups.flatten()
    total = torch.zeros(n_rows * n_cols, device=device).index_add_(0, flat, gains.flatten())
    size = torch.zeros(n_rows * n_cols, device=device).index_add_(0, flat, torch.ones(flat.numel(), device=device))
    mean = total / size.clamp(min=1.0)
    return mean[groups[:, :depth]]


def ranking_metrics(scores: torch.Tensor, exclude: torch.Tensor, relevant: torch.Tensor,
                    ks: tuple[int, ...] = DEFAULT_KS) -> dict[str, float]:
    """Mean P@k and NDCG@k over the users with at least one relevant candidate item.

    `scores`, `exclude` and `relevant` are `[users, items]`; higher scores rank first.
    """
    candidates = relevant & ~exclude
    users = candidates.any(1)
    if not bool(users.any()):
        raise ValueError("no user has a relevant item to rank")
    depth = max(ks)
    gains = expected_gains(scores[users], exclude[users], relevant[users], depth)
    discounts = 1.0 / torch.log2(torch.arange(2, depth + 2, dtype=torch.float32, device=gains.device))
    n_relevant = candidates[users].sum(1)
    results: dict[str, float] = {}
    for k in ks:
        results[f"P@{k}"] = gains[:, :k].mean(1).mean().item()
    for k in ks:
        dcg = (gains[:, :k] * discounts[:k]).sum(1)
        ideal_hits = torch.arange(k, device=gains.device).unsqueeze(0) < n_relevant.clamp(max=k).unsqueeze(1)
        ideal = (ideal_hits.float() * discounts[:k]).sum(1)
        results[f"NDCG@{k}"] = (dcg / ideal).mean().item()
    return results


def top_k(scores: torch.Tensor, exclude: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row's `k` best items not excluded, and their scores; ties go to the lower item index.

    This is a recommendation list, a "sample" of a ranker: one concrete order is needed here, so ties
    are broken deterministically rather than averaged.
    """
    masked = scores.float().masked_fill(exclude, float("-inf"))
    ordered, order = masked.sort(dim=1, descending=True, stable=True)
    return order[:, :k], ordered[:, :k]
