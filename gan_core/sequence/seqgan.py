"""SeqGAN as one nn.Module: generator, roll-out policy and discriminator, their optimizers and one step.

`train_step(next_batch)` follows the paper's schedule, counted in steps so a generic trainer can drive it
and a resumed run lands in the same place: first MLE pre-training of the generator (one batch per step),
then pre-training of D (one round of fresh negatives per step), then adversarial epochs (one per step:
REINFORCE update(s) of G with roll-out rewards, the roll-out policy's delayed update, D retrained on fresh
negatives). Every step returns the same named scalars; the ones a phase does not measure repeat their
last value, so curves stay continuous across phases. All randomness uses the global torch RNG, so the
module's state_dict plus the RNG state make resuming exact.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from gan_core.sequence.discriminator import CnnDiscriminator
from gan_core.sequence.language_model import LstmLanguageModel
from gan_core.sequence.rollout import policy_gradient_loss, rollout_rewards
from gan_core.sequence.settings import SeqGanSettings

TokenBatchSource = Callable[[], tuple[torch.Tensor, None]]

PREVIEW_SEED = 1234
METRIC_NAMES = ("MLE_loss", "D_loss", "D_accuracy", "reward_mean", "PG_loss", "phase")
PHASES = ("pretrain_generator", "pretrain_discriminator", "adversarial")


class TokenBatchSampler:
    """Random batches of real sequences (with replacement) from the global torch RNG, like the image BatchSampler."""

    def __init__(self, tokens: torch.Tensor, batch_size: int, device: torch.device | str = "cpu") -> None:
        if tokens.ndim != 2 or tokens.shape[0] == 0:
            raise ValueError("tokens must be a non-empty (n, L) tensor of ids")
        self.tokens = tokens.to(device)
        self.batch_size = batch_size

    def __call__(self) -> tuple[torch.Tensor, None]:
        index = torch.randint(0, self.tokens.shape[0], (self.batch_size,), device=self.tokens.device)
        return self.tokens.index_select(0, index), None


class SeqGanModel(nn.Module):
    """The three networks of SeqGAN for sequences of `sequence_length` ids from `vocab_size`.

    `train_size` (the number of real sequences) turns the paper's pre-training epochs into steps.
    """

    def __init__(self, settings: SeqGanSettings, vocab_size: int, sequence_length: int, train_size: int) -> None:
        super().__init__()
        self.settings = settings
        self.vocab_size = vocab_size
        self.sequence_length = sequence_length
        self.train_size = train_size
        self.batches_per_epoch = max(1, math.ceil(train_size / settings.batch_size))
        s = settings
        self.generator = LstmLanguageModel(vocab_size, sequence_length, s.embedding_dim, s.hidden_dim)
        self.generator.reset_normal(s.generator_init_std)
        self.rollout_policy = copy.deepcopy(self.generator).requires_grad_(False)
        self.discriminator = CnnDiscriminator(
            vocab_size, s.d_embedding_dim, s.d_filter_widths, s.d_filter_counts, s.d_highway_layers, s.d_dropout
        )
        self.register_buffer("step_count", torch.zeros((), dtype=torch.long))
        self.register_buffer("last_metrics", torch.zeros(len(METRIC_NAMES)))
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    # --- optimizers and schedule ----------------------------------------------------------
    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam for each, as the reference code: separate moments for MLE and policy-gradient updates of G."""
        s = self.settings
        return {
            "generator_mle": torch.optim.Adam(self.generator.parameters(), lr=s.generator_lr),
            "generator_pg": torch.optim.Adam(self.generator.parameters(), lr=s.generator_lr),
            "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=s.d_lr),
        }

    def attach_optimizers(self, optimizers: dict[str, torch.optim.Optimizer]) -> None:
        self.optimizers = optimizers

    def prepare_step(self, step: int) -> None:
        """The trainer's hook before each update: its step count is the schedule's position."""
        self.step_count.fill_(step)

    def sampling_generator(self) -> nn.Module:
        """The network to save and sample from: the generator (D and the roll-out policy only train it)."""
        return self.generator

    def phase_steps(self) -> dict[str, int]:
        """How many `train_step` calls each phase takes; the adversarial phase continues past its count if asked."""
        s = self.settings
        return {
            "pretrain_generator": s.pretrain_epochs * self.batches_per_epoch,
            "pretrain_discriminator": s.d_pretrain_rounds,
            "adversarial": s.adversarial_epochs,
        }

    def adversarial_start(self) -> int:
        """The step at which the adversarial phase begins (and the roll-out policy is copied from G)."""
        phases = self.phase_steps()
        return phases["pretrain_generator"] + phases["pretrain_discriminator"]

    def total_steps(self) -> int:
        return sum(self.phase_steps().values())

    def phase_at(self, step: int) -> str:
        boundary = 0
        for phase, count in self.phase_steps().items():
            boundary += count
            if step < boundary:
                return phase
        return "adversarial"

    # --- the step -------------------------------------------------------------------------
    def train_step(self, next_batch: TokenBatchSource) -> dict[str, torch.Tensor]:
        step = int(self.step_count)
        phase = self.phase_at(step)
        if phase == "pretrain_generator":
            measured = {"MLE_loss": self.mle_step(next_batch()[0])}
        elif phase == "pretrain_discriminator":
            measured = self.discriminator_round(next_batch)
        else:
            if step == self.adversarial_start():
                self.start_adversarial()
            measured = self.adversarial_epoch(next_batch)
        measured["phase"] = torch.tensor(float(PHASES.index(phase)))
        self.step_count += 1
        for index, name in enumerate(METRIC_NAMES):
            if name in measured:
                self.last_metrics[index] = measured[name].detach().float()
        return dict(zip(METRIC_NAMES, self.last_metrics.clone().unbind()))

    # --- building blocks (also driven directly by the benchmark) ---------------------------
    def _update(self, optimizer_name: str, loss: torch.Tensor, module: nn.Module, clip: float | None) -> None:
        optimizer = self.optimizers[optimizer_name]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
        optimizer.step()

    def mle_step(self, real: torch.Tensor) -> torch.Tensor:
        """One maximum-likelihood (teacher-forced) update of G; returns the batch's per-token NLL."""
        loss = self.generator.nll(real).mean()
        self._update("generator_mle", loss, self.generator, self.settings.grad_clip)
        return loss.detach()

    def mle_epoch(self, next_batch: TokenBatchSource) -> torch.Tensor:
        """As many MLE updates as the training set has batches: the paper's "epoch" of MLE."""
        return torch.stack([self.mle_step(next_batch()[0]) for _ in range(self.batches_per_epoch)]).mean()

    def discriminator_update(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One update of D on a balanced batch: cross-entropy plus the paper's L2 on the output layer."""
        logits = self.discriminator(torch.cat([real, fake]))
        targets = torch.cat([torch.ones(real.shape[0]), torch.zeros(fake.shape[0])]).to(logits.device)
        loss = F.binary_cross_entropy_with_logits(logits.float(), targets)
        self._update("discriminator", loss + self.settings.d_l2 * self.discriminator.output_l2(), self.discriminator, None)
        accuracy = ((logits.detach() > 0).float() == targets).float().mean()
        return loss.detach(), accuracy

    def discriminator_round(self, next_batch: TokenBatchSource) -> dict[str, torch.Tensor]:
        """Fresh negatives from G, then `d_epochs_per_round` passes over them, each batch with as many real rows."""
        s = self.settings
        negatives = self.generator.sample(s.d_negatives)
        losses, accuracies = [], []
        for _ in range(s.d_epochs_per_round):
            for index in torch.randperm(negatives.shape[0], device=negatives.device).split(s.batch_size):
                loss, accuracy = self.discriminator_update(next_batch()[0], negatives[index])
                losses.append(loss)
                accuracies.append(accuracy)
        return {"D_loss": torch.stack(losses).mean(), "D_accuracy": torch.stack(accuracies).mean()}

    def start_adversarial(self) -> None:
        """The roll-out policy starts as an exact copy of the pre-trained generator."""
        self.rollout_policy.load_state_dict(self.generator.state_dict())

    @torch.no_grad()
    def update_rollout_policy(self) -> None:
        """The paper's delayed copy: roll-out ← rate · roll-out + (1 - rate) · G, for every parameter.

        (The reference code copies the embedding outright and delays only the LSTM and output weights; we
        delay all of them alike, which is what the paper's text describes.)
        """
        torch._foreach_lerp_(
            list(self.rollout_policy.parameters()), list(self.generator.parameters()), 1.0 - self.settings.rollout_update_rate
        )

    def policy_gradient_step(self) -> dict[str, torch.Tensor]:
        """Sample a batch from G, reward every token by roll-outs through D, one REINFORCE update."""
        s = self.settings
        sequences = self.generator.sample(s.batch_size)
        rewards = rollout_rewards(self.rollout_policy, self.discriminator.real_probability, sequences, s.rollout_count)
        loss = policy_gradient_loss(self.generator, sequences, rewards)
        self._update("generator_pg", loss, self.generator, s.grad_clip)
        return {"PG_loss": loss.detach(), "reward_mean": rewards.mean()}

    def adversarial_epoch(self, next_batch: TokenBatchSource) -> dict[str, torch.Tensor]:
        """One epoch of Algorithm 1: G step(s), the roll-out policy's update, D rounds; then `mle_epochs_per_epoch`
        MLE epochs of G (none in the paper). MLE_loss is theirs, or G's NLL on a real batch without them."""
        measured: dict[str, torch.Tensor] = {}
        for _ in range(self.settings.g_steps_per_epoch):
            measured.update(self.policy_gradient_step())
        self.update_rollout_policy()
        for _ in range(self.settings.d_rounds_per_epoch):
            measured.update(self.discriminator_round(next_batch))
        if self.settings.mle_epochs_per_epoch:
            measured["MLE_loss"] = torch.stack([self.mle_epoch(next_batch) for _ in range(self.settings.mle_epochs_per_epoch)]).mean()
        else:
            with torch.no_grad():
                measured["MLE_loss"] = self.generator.nll(next_batch()[0]).mean()
        return measured

    @torch.no_grad()
    def sample(self, n: int, temperature: float = 1.0) -> torch.Tensor:
        """n sequences of ids (n, L) from the generator: the variant's "sample"."""
        return self.generator.sample(n, temperature)

    @torch.no_grad()
    def preview_lines(
        self, n: int = 16, decode: Callable[[torch.Tensor], list[str]] | None = None, temperature: float = 1.0
    ) -> list[str]:
        """One sample per line for a text preview: ids separated by spaces, or `decode`'s text (a vocabulary's).

        Drawn from a private fixed-seed generator, so previews are comparable across steps and never consume
        the training run's random stream (resuming stays exact however often previews are saved).
        """
        rng = torch.Generator(device=self.generator.output.weight.device).manual_seed(PREVIEW_SEED)
        tokens = self.generator.sample(n, temperature, generator=rng)
        return decode(tokens) if decode is not None else [" ".join(map(str, row)) for row in tokens.tolist()]
