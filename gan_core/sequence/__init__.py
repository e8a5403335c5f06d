"""Sequences of discrete tokens: SeqGAN (Yu et al., AAAI 2017) and its synthetic-oracle experiment.

A sample here is a row of token ids (int64, shape (n, sequence_length)); a vocabulary, when there is one,
maps ids to characters or words. Nothing in this package knows about images or the image trainer's config.

How a variant wires it (the trainer's contract):
- `SeqGanModel(settings, vocab_size, sequence_length, train_size)`: an nn.Module holding `generator`,
  `rollout_policy` and `discriminator`; `configure_optimizers()` / `attach_optimizers()`; `prepare_step(step)`;
  `train_step(next_batch)` returning the same named scalars every step (MLE_loss, D_loss, D_accuracy,
  reward_mean, PG_loss, phase); `total_steps()` for the paper's schedule; `sample(n, temperature)`.
- `next_batch` is a `TokenBatchSampler(tokens, batch_size)`: () -> (ids (batch, L) int64, None).
- Data: `make_oracle_data(OracleSettings(...))` (synthetic oracle, scored by `metrics.oracle_nll`) or
  `poems.load_poems()` (Tang quatrains with a `CharVocabulary` to decode samples).
"""

from gan_core.sequence.discriminator import CnnDiscriminator
from gan_core.sequence.language_model import LstmLanguageModel
from gan_core.sequence.oracle import Oracle, OracleData, OracleSettings, make_oracle_data
from gan_core.sequence.seqgan import SeqGanModel, TokenBatchSampler
from gan_core.sequence.settings import SeqGanSettings

__all__ = [
    "CnnDiscriminator", "LstmLanguageModel", "Oracle", "OracleData", "OracleSettings", "SeqGanModel",
    "SeqGanSettings", "TokenBatchSampler", "make_oracle_data",
]
