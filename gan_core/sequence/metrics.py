"""How good a sequence generator is, three ways that catch different failures.

- oracle NLL (the paper's measure): how likely the oracle finds G's samples; it rewards precision, and a
  generator that repeats one likely sentence scores well on it;
- held-out NLL: how likely G finds unseen oracle data; it rewards coverage, so a collapsed G cannot win it;
- distinct n-gram share: distinct n-grams / all n-grams in a set of samples, a direct view of diversity.
"""

from __future__ import annotations

import torch

from gan_core.sequence.language_model import LstmLanguageModel
from gan_core.sequence.oracle import Oracle


@torch.no_grad()
def oracle_nll(
    generator: LstmLanguageModel, oracle: Oracle, samples: int, temperature: float = 1.0, rng: torch.Generator | None = None
) -> float:
    """Mean per-token NLL, under the oracle, of `samples` fresh sequences from the generator.

    Pass `rng` so that measuring does not consume the training run's global random stream.
    """
    return float(oracle.score(generator.sample(samples, temperature, generator=rng)))


@torch.no_grad()
def heldout_nll(generator: LstmLanguageModel, tokens: torch.Tensor, chunk: int = 2048) -> float:
    """Mean per-token NLL of real held-out sequences under the generator."""
    was_training = generator.training
    generator.eval()
    value = torch.cat([generator.nll(part) for part in tokens.split(chunk)]).mean()
    generator.train(was_training)
    return float(value)


def distinct_ngram_share(samples: torch.Tensor, n: int) -> float:
    """Distinct n-grams over all n-grams in `samples` (rows of ids), 1.0 when no n-gram repeats."""
    if samples.shape[1] < n or samples.shape[0] == 0:
        raise ValueError(f"need at least one sequence of length ≥ {n}")
    grams = samples.unfold(1, n, 1).reshape(-1, n)
    return torch.unique(grams, dim=0).shape[0] / grams.shape[0]
