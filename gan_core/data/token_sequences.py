"""Sequences of discrete tokens as training data for a sequence variant (SeqGAN): the paper's synthetic oracle,
and real text (five-character Tang quatrains from Debian's `fortunes-zh`).

Both come as `TokenData`: training and held-out rows of ids, the vocabulary that decodes them (none for the
oracle, whose ids are the tokens) and, for the oracle, the oracle itself, which scores a generator's samples.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from gan_core.sequence.oracle import Oracle, OracleSettings, make_oracle_data
from gan_core.sequence.poems import TANG300, load_poems

# The oracle the SeqGAN benchmark runs (BENCHMARKS.md, "SeqGAN: synthetic oracle"): the paper's length 20 and
# 10,000 training sequences, with 1,000 ids instead of 5,000 so that an epoch fits this CPU.
ORACLE = OracleSettings(vocab_size=1000)
ORACLE_DESCRIPTION = ("SeqGAN's synthetic oracle: 10,000 sequences of 20 ids (of 1,000) drawn from a random LSTM "
                      "(seed 88), which also scores samples (generated, offline)")
POEMS_DESCRIPTION = ("Tang poems: five-character quatrains (20 characters) from Debian's fortunes-zh tang300 "
                     "(installed; data_root: another fortune file in UTF-8)")


@dataclass(frozen=True)
class TokenData:
    """Rows of token ids, with what decodes them and, for synthetic data, what generated them."""

    name: str
    train: torch.Tensor  # (n, L) int64
    heldout: torch.Tensor  # (m, L) int64
    vocabulary: tuple[str, ...] | None  # one entry per id; None: the ids themselves are the tokens
    oracle: Oracle | None = None

    @property
    def vocab_size(self) -> int:
        return self.oracle.vocab_size if self.oracle is not None else len(self.vocabulary)

    @property
    def sequence_length(self) -> int:
        return self.train.shape[1]

    def decode(self, tokens: torch.Tensor) -> list[str]:
        return decode(tokens, self.vocabulary)

    def describe(self) -> dict:
        """What a checkpoint keeps to sample and show without the data: the vocabulary, the length, the oracle."""
        return {"vocab_size": self.vocab_size, "sequence_length": self.sequence_length,
                "vocabulary": list(self.vocabulary) if self.vocabulary is not None else None,
                "oracle": asdict(self.oracle.settings) if self.oracle is not None else None}


def decode(tokens: torch.Tensor, vocabulary: tuple[str, ...] | list[str] | None) -> list[str]:
    """One line per row: characters joined, or ids separated by spaces when there is no vocabulary."""
    if vocabulary is None:
        return [" ".join(map(str, row)) for row in tokens.tolist()]
    return ["".join(vocabulary[i] for i in row) for row in tokens.tolist()]


def load_oracle(image_size: int = 0, root: str | None = None) -> TokenData:
    """The catalogue's loader (`image_size` and `root` are ignored: the data are generated)."""
    data = make_oracle_data(ORACLE)
    return TokenData("seqgan_oracle", data.train, data.heldout, None, data.oracle)


def load_tang_poems(image_size: int = 0, root: str | None = None) -> TokenData:
    """The catalogue's loader: `root` is another fortune file to read instead of tang300."""
    corpus = load_poems(Path(root) if root else TANG300)
    return TokenData("tang_poems", corpus.train, corpus.heldout, corpus.vocabulary.characters)
