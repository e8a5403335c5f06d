"""A trained sequence checkpoint ready to write: what the CLI's `sample` and the /sequences page use.

The checkpoint holds the generator and, in its dataset description, the vocabulary (real text) or the oracle's
settings (synthetic data), so sampling and decoding need no corpus; the nearest training sequence, which shows
memorisation, does need the training data and reads it from the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from gan_core.checkpoints import LoadedGenerator, load_generator
from gan_core.data.catalogue import load_dataset
from gan_core.data.token_sequences import decode
from gan_core.errors import CheckpointError, ConfigError
from gan_core.registry import get_variant
from gan_core.sequence.oracle import Oracle, OracleSettings

MAX_SAMPLES = 100_000


@dataclass
class SequenceModel:
    loaded: LoadedGenerator

    @property
    def vocabulary(self) -> tuple[str, ...] | None:
        vocabulary = self.loaded.dataset.details.get("vocabulary")
        return tuple(vocabulary) if vocabulary is not None else None

    @property
    def oracle_settings(self) -> dict | None:
        return self.loaded.dataset.details.get("oracle")

    def sample_ids(self, n: int, seed: int = 0, temperature: float = 1.0) -> torch.Tensor:
        """(n, L) token ids, the same for the same seed and temperature."""
        if not 1 <= n <= MAX_SAMPLES:
            raise ConfigError(f"the number of samples must be in [1, {MAX_SAMPLES:,}]; got {n}")
        if not temperature > 0 or temperature > 100:
            raise ConfigError(f"the temperature must be in (0, 100]; got {temperature}")
        return self.loaded.generator.sample(n, temperature, generator=torch.Generator().manual_seed(seed))

    def sample_lines(self, n: int, seed: int = 0, temperature: float = 1.0) -> list[str]:
        """One sequence per line: characters for text, ids separated by spaces for the oracle."""
        return self.decode(self.sample_ids(n, seed, temperature))

    def decode(self, tokens: torch.Tensor) -> list[str]:
        return decode(tokens, self.vocabulary)


def oracle_score(model: SequenceModel, tokens: torch.Tensor) -> float:
    """Mean per-token NLL of `tokens` under the oracle that generated the model's training data (rebuilt from
    its settings: the oracle's weights depend on its seed alone)."""
    if model.oracle_settings is None:
        raise ConfigError("this model was trained on real text: there is no oracle to score its samples")
    return float(Oracle(OracleSettings(**model.oracle_settings)).score(tokens))


def training_sequences(model: SequenceModel) -> torch.Tensor:
    """The (n, L) training rows the model learned from, read again from its dataset; refused when the data
    installed here are not the ones it was trained on (another vocabulary)."""
    config = model.loaded.config
    data = load_dataset(config.dataset, 0, config.data_root)
    if data.vocabulary != model.vocabulary:
        raise CheckpointError(f"the {config.dataset} data installed here have another vocabulary than the model's")
    return data.train


def load_sequence_model(path: Path | str) -> SequenceModel:
    loaded = load_generator(Path(path))
    spec = get_variant(loaded.variant)
    if spec.data != "token_sequences":
        raise CheckpointError(f"{Path(path).name} is a {spec.title} checkpoint: it draws {spec.sample_kind.description}, "
                              "not sequences")
    return SequenceModel(loaded)


def nearest_training_sequences(samples: torch.Tensor, train: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each sample (n, L): the index of the training sequence with the most equal positions, and how many
    positions differ (0: the sample is a copy). Hamming distance, since every sequence has the same length."""
    if samples.shape[1] != train.shape[1]:
        raise ConfigError(f"samples of length {samples.shape[1]} cannot be compared with training sequences of "
                          f"length {train.shape[1]}")
    distances = torch.stack([(train != row).sum(1) for row in samples])
    best = distances.min(1)
    return best.indices, best.values
