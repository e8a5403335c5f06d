"""Sequences of discrete tokens: SeqGAN (Yu et al., AAAI 2017) and its synthetic-oracle experiment.

A sample here is a row of token ids (int64, shape (n, sequence_length)); a vocabulary, when there is one,
maps ids to characters or words. Nothing in this package knows about images or the image trainer's config.
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
