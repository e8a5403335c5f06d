"""IRGAN for item recommendation (Wang et al., SIGIR 2017): the generator picks movies for a user, the
discriminator tells the user's relevant movies from the picked ones.

G and D are both matrix factorisations. G reads its scores as a softmax over all items, p_θ(i|u);
D reads its score as the probability σ(f_φ(u,i)) that item i is relevant to u.

- D step: the user's relevant training items (label 1) against as many items drawn from G's softmax at
  temperature `sample_temperature` (label 0); cross-entropy plus the paper's L2 penalty.
- G step (policy gradient): maximise E_{i~p_θ}[reward(u,i)]. As the paper's code does, items are drawn
  not from p_θ but from a proposal mixing it with the user's relevant items,
  p_n = (1−λ)·p_θ + λ·uniform(relevant), and each reward is importance-weighted by p_θ(i)/p_n(i): the
  gradient stays unbiased while the rare relevant items are seen often enough to be learned from.
  The reward is D's verdict, either the paper's log(1 + exp f_φ) or the released code's 2σ(f_φ) − 1.

One `train_step` is `d_updates` D updates then `g_updates` G updates, each on a fresh batch of users
(the paper's ratio of 100 D epochs to 50 G epochs is 2:1). All users of a batch are handled at once
with full-matrix scores: no Python loop over users.

State: the two networks' parameters only (tensors, safetensors-friendly). The interaction masks are
attached with `attach_interactions` and are not saved (MovieLens may not be redistributed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.errors import ConfigError
from gan_core.retrieval.metrics import ranking_metrics, top_k
from gan_core.retrieval.scorers import INIT_SCALE, MatrixFactorization
from gan_core.retrieval.split import RankingTask

Reward = Literal["log1p_exp", "centered_sigmoid"]
UserBatches = Callable[[], torch.Tensor]


@dataclass(frozen=True)
class IrganSettings:
    """Every quantity IRGAN's item-recommendation experiment sets. Defaults: the released code's values
    unless marked "tuned" (chosen on the validation split; see benchmarks/irgan_ranking.py)."""

    dim: int = 5  # embedding size of G and D (EMB_DIM)
    sample_temperature: float = 0.2  # G's softmax temperature when drawing D's negatives
    policy_temperature: float = 1.0  # G's softmax temperature in the policy gradient
    importance_mix: float = 0.2  # λ: share of the proposal put on the user's relevant items
    samples_per_relevant: int = 2  # G draws this many items per relevant training item of the user
    reward: Reward = "centered_sigmoid"  # released code: 2σ(f)−1; paper text: log(1+exp f)
    optimizer: Literal["sgd", "adam"] = "adam"  # tuned (the code: SGD, one user / 16 pairs per update)
    lr_g: float = 0.0001  # tuned (the code: 0.001 with SGD); larger rates lowered validation P@5
    lr_d: float = 0.01  # tuned (the code: 0.001 with SGD)
    l2_g: float = 0.0
    l2_d: float = 0.1  # per example (the code's 0.1 / batch 16 summed over the batch)
    d_updates: int = 2
    g_updates: int = 1
    d_warmup_steps: int = 200  # tuned: D-only steps before G moves (the code trains D for 100 epochs first)
    users_per_batch: int = 64  # not tuned (the code: one user per G update, 16 pairs per D update)
    exclude_seen_negatives: bool = False  # the code draws D's negatives from all items, training ones included
    discriminator_from_pretrained: bool = False  # the code starts D fresh and G from the pre-trained model
    init_scale: float = INIT_SCALE

    def __post_init__(self) -> None:
        positive = {"dim": self.dim, "sample_temperature": self.sample_temperature,
                    "policy_temperature": self.policy_temperature, "samples_per_relevant": self.samples_per_relevant,
                    "lr_g": self.lr_g, "lr_d": self.lr_d, "users_per_batch": self.users_per_batch,
                    "init_scale": self.init_scale}
        for name, value in positive.items():
            if not value > 0:
                raise ConfigError(f"IRGAN setting {name} must be positive, got {value}")
        if not 0.0 <= self.importance_mix < 1.0:
            raise ConfigError(f"IRGAN setting importance_mix must be in [0, 1), got {self.importance_mix}")
        if self.reward not in ("log1p_exp", "centered_sigmoid"):
            raise ConfigError(f"IRGAN setting reward must be log1p_exp or centered_sigmoid, got {self.reward!r}")
        if self.optimizer not in ("sgd", "adam"):
            raise ConfigError(f"IRGAN setting optimizer must be sgd or adam, got {self.optimizer!r}")
        if self.d_updates < 0 or self.g_updates < 0 or self.d_updates + self.g_updates == 0:
            raise ConfigError("IRGAN settings d_updates and g_updates must be ≥ 0 and not both 0")
        if self.d_warmup_steps < 0:
            raise ConfigError(f"IRGAN setting d_warmup_steps must be ≥ 0, got {self.d_warmup_steps}")
        if self.l2_g < 0 or self.l2_d < 0:
            raise ConfigError("IRGAN L2 penalties must be ≥ 0")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> IrganSettings:
        """Settings read back from a checkpoint's metadata; unknown names are refused, not ignored."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown IRGAN setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**values)


def d_reward(logits: torch.Tensor, kind: Reward) -> torch.Tensor:
    """D's reward for G's picks from D's logits f_φ(u,i)."""
    if kind == "log1p_exp":
        return F.softplus(logits)
    return 2.0 * torch.sigmoid(logits) - 1.0


class IrganModel(nn.Module):
    """IRGAN's two players and its training step; see the module docstring."""

    def __init__(self, settings: IrganSettings, n_users: int, n_items: int,
                 pretrained: MatrixFactorization | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.generator = MatrixFactorization(n_users, n_items, settings.dim, settings.init_scale)
        self.discriminator = MatrixFactorization(n_users, n_items, settings.dim, settings.init_scale)
        if pretrained is not None:
            self.generator.load_state_dict(pretrained.state_dict())
            if settings.discriminator_from_pretrained:
                self.discriminator.load_state_dict(pretrained.state_dict())
        self.register_buffer("seen", torch.zeros(n_users, n_items, dtype=torch.bool), persistent=False)
        self.register_buffer("relevant", torch.zeros(n_users, n_items, dtype=torch.bool), persistent=False)
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.steps_done = 0  # set by the trainer (`prepare_step`); counted here when training stand-alone

    # --- set-up -------------------------------------------------------------------------
    def attach_interactions(self, task: RankingTask) -> None:
        """The training masks G and D learn from and recommendations exclude (kept out of `state_dict`)."""
        if tuple(task.seen.shape) != tuple(self.seen.shape):
            raise ConfigError(f"interactions of shape {tuple(task.seen.shape)} do not fit a model of "
                              f"{tuple(self.seen.shape)} users × items")
        self.seen.copy_(task.seen)
        self.relevant.copy_(task.relevant)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        s = self.settings
        make = torch.optim.Adam if s.optimizer == "adam" else torch.optim.SGD
        return {"generator": make(self.generator.parameters(), lr=s.lr_g),
                "discriminator": make(self.discriminator.parameters(), lr=s.lr_d)}

    def attach_optimizers(self, optimizers: dict[str, torch.optim.Optimizer]) -> None:
        self.optimizers = optimizers

    def prepare_step(self, step: int) -> None:
        """Called by the trainer before each step with the steps done so far, so a resumed run keeps its schedule."""
        self.steps_done = step

    def user_batches(self, generator: torch.Generator | None = None) -> UserBatches:
        """Batches of `users_per_batch` users drawn at random among those with a relevant training item."""
        active = self.relevant.any(1).nonzero().squeeze(1)
        if active.numel() == 0:
            raise ConfigError("no user has a relevant training item: attach the interactions first")
        size = min(self.settings.users_per_batch, active.numel())

        def next_batch() -> torch.Tensor:
            return active[torch.randperm(active.numel(), generator=generator, device=active.device)[:size]]
        return next_batch

    # --- sampling -----------------------------------------------------------------------
    def generator_probabilities(self, users: torch.Tensor, temperature: float, exclude_seen: bool) -> torch.Tensor:
        """`[len(users), items]`: G's softmax over items; training items get 0 when `exclude_seen`."""
        logits = self.generator.all_scores(users) / temperature
        if exclude_seen:
            logits = logits.masked_fill(self.seen[users], float("-inf"))
        return torch.softmax(logits, dim=1)

    @torch.no_grad()
    def sample_negatives(self, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """D's training pairs for `users`: each relevant (user, item) and one item drawn from G for it.

        Returns `(pair_users, relevant_items, generated_items)`, one row per relevant pair.
        """
        s = self.settings
        rows, positives = self.relevant[users].nonzero(as_tuple=True)
        counts = torch.bincount(rows, minlength=users.numel())
        probabilities = self.generator_probabilities(users, s.sample_temperature, s.exclude_seen_negatives)
        draws = torch.multinomial(probabilities, int(counts.max()), replacement=True)
        rank = torch.arange(rows.numel(), device=rows.device) - (counts.cumsum(0) - counts)[rows]
        return users[rows], positives, draws[rows, rank]

    # --- the two players' updates ---------------------------------------------------------
    def discriminator_step(self, users: torch.Tensor) -> dict[str, torch.Tensor]:
        """One D update: the users' relevant items are real, G's draws for them are fake."""
        s = self.settings
        pair_users, real, fake = self.sample_negatives(users)
        d = self.discriminator
        real_logits, fake_logits = d(pair_users, real), d(pair_users, fake)
        loss = 0.5 * (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                      + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
        penalty = 0.5 * (d.squared_norms(pair_users, real) + d.squared_norms(pair_users, fake)).mean()
        optimizer = self.optimizers["discriminator"]
        optimizer.zero_grad(set_to_none=True)
        (loss + s.l2_d * penalty).backward()
        optimizer.step()
        return {"D_loss": loss.detach(), "D(real)": torch.sigmoid(real_logits.detach()).mean(),
                "D(fake)": torch.sigmoid(fake_logits.detach()).mean()}

    def generator_step(self, users: torch.Tensor) -> dict[str, torch.Tensor]:
        """One policy-gradient update of G with importance sampling, as in the paper's code.

        Per user u with relevant set R_u: draw `samples_per_relevant`·|R_u| items from
        p_n = (1−λ)p_θ + λ·1[i∈R_u]/|R_u|; loss = −mean_k log p_θ(i_k|u) · r(u,i_k) · p_θ(i_k|u)/p_n(i_k|u),
        averaged over users (each user weighs the same, as the code's one update per user does).
        """
        s = self.settings
        log_p = torch.log_softmax(self.generator.all_scores(users) / s.policy_temperature, dim=1)
        with torch.no_grad():
            p = log_p.exp()
            relevant = self.relevant[users].float()
            n_relevant = relevant.sum(1, keepdim=True)
            proposal = (1.0 - s.importance_mix) * p + s.importance_mix * relevant / n_relevant.clamp(min=1.0)
            counts = (n_relevant.squeeze(1) * s.samples_per_relevant).long()
            draws = torch.multinomial(proposal, int(counts.max()), replacement=True)
            valid = (torch.arange(draws.shape[1], device=draws.device).unsqueeze(0) < counts.unsqueeze(1)).float()
            weight = p.gather(1, draws) / proposal.gather(1, draws)
            raw_reward = d_reward(self.discriminator(users.unsqueeze(1), draws), s.reward)
            reward = raw_reward * weight
        per_user = (log_p.gather(1, draws) * reward * valid).sum(1) / counts.clamp(min=1)
        loss = -per_user.mean()
        if s.l2_g > 0:
            picked_users = users.unsqueeze(1).expand_as(draws)
            norms = self.generator.squared_norms(picked_users, draws)
            loss = loss + s.l2_g * ((norms * valid).sum() / valid.sum())
        optimizer = self.optimizers["generator"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"G_loss": loss.detach(),
                "reward_mean": (reward * valid).sum() / valid.sum(),  # importance-weighted: E_{p_θ}[reward]
                "reward_raw_mean": (raw_reward * valid).sum() / valid.sum()}

    def train_step(self, next_batch: UserBatches) -> dict[str, torch.Tensor]:
        """`d_updates` D updates then `g_updates` G updates, each on a fresh batch of users from `next_batch`.

        During the first `d_warmup_steps` steps only D is updated. Returns named scalar tensors (the
        trainer logs them): D_loss, D(real), D(fake) from the last D update; G_loss, reward_mean (D's
        reward of G's picks under p_θ) and reward_raw_mean from the last G update (absent while warming up,
        or when an update count is 0).
        """
        if not self.optimizers:
            raise RuntimeError("attach_optimizers(configure_optimizers()) before training")
        warming_up = self.steps_done < self.settings.d_warmup_steps
        logs: dict[str, torch.Tensor] = {}
        for _ in range(max(self.settings.d_updates, 1) if warming_up else self.settings.d_updates):
            logs.update(self.discriminator_step(next_batch()))
        if not warming_up:
            for _ in range(self.settings.g_updates):
                logs.update(self.generator_step(next_batch()))
        self.steps_done += 1
        return logs

    # --- reading the players as rankers -----------------------------------------------------
    @torch.no_grad()
    def scores(self, player: Literal["generator", "discriminator"] = "generator",
               users: torch.Tensor | None = None) -> torch.Tensor:
        """`[users, items]` ranking scores of one player (G's logits rank as its softmax does)."""
        return getattr(self, player).all_scores(users)

    @torch.no_grad()
    def recommend(self, users: torch.Tensor, k: int = 10,
                  player: Literal["generator", "discriminator"] = "generator") -> tuple[torch.Tensor, torch.Tensor]:
        """The sample of this model: each user's top-`k` items not seen in training, and their scores."""
        n_users = self.seen.shape[0]
        users = users.to(self.seen.device)
        if users.numel() and (int(users.min()) < 0 or int(users.max()) >= n_users):
            raise ConfigError(f"user index out of range: this model knows users 0..{n_users - 1}")
        return top_k(self.scores(player, users), self.seen[users], k)

    @torch.no_grad()
    def evaluate(self, held_out: torch.Tensor, player: Literal["generator", "discriminator"] = "generator",
                 ks: tuple[int, ...] = (3, 5, 10)) -> dict[str, float]:
        """P@k and NDCG@k of one player against held-out relevant items, training items excluded."""
        return ranking_metrics(self.scores(player), self.seen, held_out.to(self.seen.device), ks)
