"""The synthetic oracle of the paper's first experiment: a random LSTM that stands in for "the real world".

Its parameters are drawn from N(0, 1) with a fixed seed (the paper's `target_params`), it generates the
training and held-out sequences, and because its density is known it can score any generator's samples:
the oracle NLL, -mean log p_oracle(y_t | y_<t) over G's samples, is the paper's measure (lower is better).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gan_core.sequence.language_model import LstmLanguageModel


@dataclass(frozen=True)
class OracleSettings:
    """The oracle's shape and its data. The paper: 5,000 ids, length 20, embedding and hidden 32, 10,000 sequences."""

    vocab_size: int = 5000
    sequence_length: int = 20
    embedding_dim: int = 32
    hidden_dim: int = 32
    seed: int = 88  # the reference code's SEED
    train_count: int = 10_000
    heldout_count: int = 2_000


class Oracle(LstmLanguageModel):
    """A frozen LstmLanguageModel whose weights depend on `seed` alone (a private torch.Generator)."""

    def __init__(self, settings: OracleSettings) -> None:
        super().__init__(settings.vocab_size, settings.sequence_length, settings.embedding_dim, settings.hidden_dim)
        self.settings = settings
        self.reset_normal(1.0, torch.Generator().manual_seed(settings.seed))
        self.requires_grad_(False)
        self.eval()

    @torch.no_grad()
    def score(self, tokens: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
        """Mean per-token oracle NLL of `tokens` (n, L); chunked so a (n, L, vocab) table never exists whole."""
        return torch.cat([self.nll(part) for part in tokens.split(chunk)]).mean()


@dataclass(frozen=True)
class OracleData:
    """The oracle and what it generated: the training set and a held-out set from a different draw."""

    oracle: Oracle
    train: torch.Tensor  # (train_count, L) int64
    heldout: torch.Tensor  # (heldout_count, L) int64


def make_oracle_data(settings: OracleSettings) -> OracleData:
    """Build the oracle and sample its two sets, each from its own seeded generator: the same settings give the same data."""
    oracle = Oracle(settings)
    train = oracle.sample(settings.train_count, generator=torch.Generator().manual_seed(settings.seed + 1))
    heldout = oracle.sample(settings.heldout_count, generator=torch.Generator().manual_seed(settings.seed + 2))
    return OracleData(oracle, train, heldout)
