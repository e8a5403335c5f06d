"""Every quantity the SeqGAN paper (and its reference code, LantaoYu/SeqGAN) tunes, as plain frozen data.

Defaults are the paper's values. `cpu_oracle()` is the shrunk set the synthetic-oracle benchmark runs on a
2-core CPU; BENCHMARKS.md ("SeqGAN: synthetic oracle") says what was shrunk and why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

PAPER_FILTER_WIDTHS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20)
PAPER_FILTER_COUNTS = (100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160)
_AT_LEAST_ONE = ("embedding_dim", "hidden_dim", "batch_size", "d_embedding_dim", "d_epochs_per_round", "d_negatives",
                 "g_steps_per_epoch", "rollout_count")
_NOT_NEGATIVE = ("pretrain_epochs", "d_pretrain_rounds", "d_rounds_per_epoch", "adversarial_epochs", "d_highway_layers",
                 "generator_init_std", "generator_lr", "grad_clip", "d_l2", "d_lr", "mle_epochs_per_epoch")


@dataclass(frozen=True)
class SeqGanSettings:
    """The paper's knobs with its values; vocabulary and length belong to the data, not here."""

    # generator: an LSTM language model (paper: embedding 32, hidden 32, N(0, 0.1) init, Adam 0.01, clip 5)
    embedding_dim: int = 32
    hidden_dim: int = 32
    generator_init_std: float = 0.1
    generator_lr: float = 0.01
    grad_clip: float = 5.0
    batch_size: int = 64
    pretrain_epochs: int = 120  # MLE epochs over the training set before the adversarial phase
    # discriminator: CNN over token embeddings (paper: embedding 64, 12 widths, 1,720 filters, keep 0.75, L2 0.2)
    d_embedding_dim: int = 64
    d_filter_widths: tuple[int, ...] = PAPER_FILTER_WIDTHS
    d_filter_counts: tuple[int, ...] = PAPER_FILTER_COUNTS
    d_highway_layers: int = 1
    d_dropout: float = 0.25
    d_l2: float = 0.2
    d_lr: float = 1e-4
    d_pretrain_rounds: int = 50  # rounds of (fresh negatives, d_epochs_per_round epochs) before the adversarial phase
    d_rounds_per_epoch: int = 5  # the same, after each adversarial epoch's generator update
    d_epochs_per_round: int = 3
    d_negatives: int = 10_000  # fresh generated sequences per round (as many real ones are drawn)
    # adversarial phase
    adversarial_epochs: int = 200
    g_steps_per_epoch: int = 1
    # MLE epochs of G after each adversarial epoch: 0 is the paper's Algorithm 1; 1 interleaves teacher forcing
    # as later work does (Li et al. 2017's adversarial dialogue; LeakGAN's code), so the adversarial updates come
    # on top of exactly the MLE-only run's updates
    mle_epochs_per_epoch: int = 0
    rollout_count: int = 16  # Monte Carlo roll-outs per prefix
    rollout_update_rate: float = 0.8  # roll-out policy ← rate · roll-out policy + (1 - rate) · generator

    def __post_init__(self) -> None:
        for name in _AT_LEAST_ONE:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in _NOT_NEGATIVE:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")
        if len(self.d_filter_widths) != len(self.d_filter_counts) or not self.d_filter_widths:
            raise ValueError("d_filter_widths and d_filter_counts need the same, non-zero length")
        if min(self.d_filter_widths) < 1 or min(self.d_filter_counts) < 1:
            raise ValueError("every filter width and count must be at least 1")
        if not 0.0 <= self.rollout_update_rate <= 1.0:
            raise ValueError("rollout_update_rate is a share in [0, 1]")
        if not 0.0 <= self.d_dropout < 1.0:
            raise ValueError("d_dropout is a probability in [0, 1)")

    def with_changes(self, **changes: object) -> SeqGanSettings:
        return replace(self, **changes)


def cpu_oracle() -> SeqGanSettings:
    """The shrunk settings the synthetic-oracle benchmark uses on a 2-core CPU (see BENCHMARKS.md).

    Kept from the paper: generator sizes and learning rate, batch 64, roll-out count 16 and update rate 0.8,
    one G step per epoch, D's embedding, filter widths, highway, dropout and L2. Shrunk for time: G's
    pre-training (15 epochs, not 120), D's filter counts (a quarter: 430 filters), D's work (256 updates of
    pre-training and 16 per adversarial epoch instead of about 47,000 and 4,700) and the adversarial epochs
    (20, not 200). With a hundredth of the paper's D updates, D's learning rate is 1e-2 instead of 1e-4:
    at 1e-4 it stayed at chance (held-out accuracy 0.51) after 128 updates, at 1e-2 it reached 0.60 after 256.
    """
    return SeqGanSettings(
        pretrain_epochs=15,
        d_filter_counts=tuple(count // 4 for count in PAPER_FILTER_COUNTS),
        d_lr=1e-2,
        d_pretrain_rounds=16,
        d_rounds_per_epoch=1,
        d_epochs_per_round=1,
        d_negatives=1024,
        adversarial_epochs=20,
    )
