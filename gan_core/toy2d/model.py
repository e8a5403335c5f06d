"""`ToyGan`: one 2-D GAN training session you can step, play, pause and retune while it runs.

It owns a generator and a discriminator (MLPs), their optimizers, a private `torch.Generator` for
every random draw (weights, noise, data), and the loss / divergence history the playground draws.
Everything runs on the CPU: the networks are tiny and the page must run anywhere.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from torch import nn

from gan_core.errors import ConfigError
from gan_core.losses import discriminator_terms, generator_loss, gradient_penalty
from gan_core.nets.mlp import mlp
from gan_core.schedules import linear_decay
from gan_core.toy2d.metrics import divergences, mode_metrics
from gan_core.toy2d.targets import Target, make_target

# Playground name → (objective in gan_core.losses, label shown to people).
OBJECTIVES: dict[str, tuple[str, str]] = {
    "minimax": ("minimax", "GAN (minimax)"),
    "nonsaturating": ("nonsaturating", "GAN (non-saturating)"),
    "lsgan": ("least_squares", "LSGAN"),
    "wgan_clip": ("wasserstein", "WGAN (weight clipping)"),
    "wgan_gp": ("wasserstein", "WGAN-GP"),
    "hinge": ("hinge", "Hinge"),
}
OPTIMIZERS = ("adam", "sgd", "rmsprop")
HISTORY_LIMIT = 4000
EVAL_SAMPLES = 1000


@dataclass(frozen=True)
class ToyConfig:
    """Every knob of a session. Fields in `LIVE_FIELDS` change without a reset; the rest rebuild the nets.

    gp_weight 0.1 and clip 0.01 are the values Gulrajani et al. and Arjovsky et al. used on 2-D toys.
    `budget` is the number of generator steps Play trains for (0: no limit); from `lr_decay_start` of the
    budget on, both learning rates fall linearly towards 0 at the budget (1.0: no decay), the trainer's
    `linear_decay` policy. The defaults are those `benchmarks/modes.py` measures (see BENCHMARKS.md).
    """

    target: str = "ring8"
    objective: str = "minimax"  # the best of the six on both ring-8 and grid-25 (BENCHMARKS.md)
    optimizer: str = "adam"
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    d_steps: int = 1
    depth: int = 3
    width: int = 128
    noise_dim: int = 2
    batch_size: int = 512
    seed: int = 0
    clip: float = 0.01
    gp_weight: float = 0.1
    eval_every: int = 10
    budget: int = 10000
    lr_decay_start: float = 0.6

    def validate(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"unknown objective {self.objective!r}; choose one of {list(OBJECTIVES)}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {self.optimizer!r}; choose one of {list(OPTIMIZERS)}")
        for name in ("d_steps", "depth", "width", "noise_dim", "batch_size", "eval_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.budget < 0:
            raise ConfigError(f"budget must be 0 (no limit) or a number of generator steps, got {self.budget}")
        if not 0 <= self.lr_decay_start <= 1:
            raise ConfigError(f"lr_decay_start must be between 0 and 1, got {self.lr_decay_start}")
        for name in ("lr_g", "lr_d"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(f"{name} must be between 0 and 1, got {getattr(self, name)}")


# Where each objective starts (the page loads these when the objective changes; benchmarks/modes.py runs
# them); fields not named here are ToyConfig's defaults. Measured in BENCHMARKS.md, "2-D playground".
OBJECTIVE_DEFAULTS: dict[str, dict[str, object]] = {
    "wgan_clip": {},
    "wgan_gp": {},
}


def default_config(objective: str = ToyConfig.objective, **fields: object) -> ToyConfig:
    """The page's starting settings for `objective`, with `fields` on top."""
    if objective not in OBJECTIVES:
        raise ConfigError(f"unknown objective {objective!r}; choose one of {list(OBJECTIVES)}")
    return replace(ToyConfig(objective=objective), **{**OBJECTIVE_DEFAULTS.get(objective, {}), **fields})


LIVE_FIELDS = (
    "objective",
    "optimizer",
    "lr_g",
    "lr_d",
    "d_steps",
    "batch_size",
    "clip",
    "gp_weight",
    "eval_every",
    "budget",
    "lr_decay_start",
)


class ToyGan:
    """A steppable GAN on a 2-D target. `step_d`/`step_g` make one update; `step(n)` makes n rounds of
    `d_steps` discriminator updates and one generator update. `tick(n)` steps only while playing and
    stops at the budget. Every update first sets the learning rates from the step (`lr_factor`), so
    past a decayed budget the rates are 0 and manual steps change nothing.
    """

    def __init__(self, config: ToyConfig | None = None, target: Target | None = None) -> None:
        self.config = config or ToyConfig()
        self.config.validate()
        self.target = target or make_target(self.config.target)
        self.playing = False
        self.reset()

    # ---- building -------------------------------------------------------------------------
    def reset(self) -> None:
        """Fresh networks, optimizers and history from the session seed; keeps play/pause as it was."""
        config = self.config
        self.rng = torch.Generator().manual_seed(config.seed)
        hidden = [config.width] * config.depth
        with torch.random.fork_rng(devices=[]):  # nn.Linear's own init draws globally; ours replaces it
            self.generator = mlp([config.noise_dim, *hidden, 2], nn.ReLU)
            self.discriminator = mlp([2, *hidden, 1], nn.LeakyReLU)
        for net in (self.generator, self.discriminator):
            self._initialise(net)
        self.steps = 0
        self.d_updates = 0
        self._build_optimizers()
        self.history: list[dict[str, float]] = []
        self.evaluations: list[dict[str, float]] = []
        self._last_d: dict[str, float] = {}
        self.evaluate()

    def _initialise(self, net: nn.Module) -> None:
        """PyTorch's default Linear init (Kaiming-uniform, a=√5), drawn from the session's own RNG."""
        with torch.no_grad():
            for layer in net.modules():
                if isinstance(layer, nn.Linear):
                    bound = 1.0 / math.sqrt(layer.in_features)
                    layer.weight.uniform_(-bound, bound, generator=self.rng)
                    layer.bias.uniform_(-bound, bound, generator=self.rng)

    def _make_optimizer(self, params, lr: float) -> torch.optim.Optimizer:
        name = self.config.optimizer
        if name == "adam":
            return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))
        if name == "sgd":
            return torch.optim.SGD(params, lr=lr)
        return torch.optim.RMSprop(params, lr=lr)

    def _build_optimizers(self) -> None:
        self.optimizer_g = self._make_optimizer(self.generator.parameters(), self.config.lr_g)
        self.optimizer_d = self._make_optimizer(self.discriminator.parameters(), self.config.lr_d)
        self._schedule_learning_rates()

    def configure(self, config: ToyConfig, target: Target | None = None) -> bool:
        """Apply a new config: live fields in place, anything structural by a reset. Returns True if reset."""
        config.validate()
        old = self.config
        self.config = config
        new_target = target or (make_target(config.target) if config.target != "points" else self.target)
        structural = any(getattr(old, name) != getattr(config, name) for name in asdict(config) if name not in LIVE_FIELDS)
        if structural or not _same_target(new_target, self.target):
            self.target = new_target
            self.reset()
            return True
        if old.optimizer != config.optimizer:
            self._build_optimizers()
        self._schedule_learning_rates()
        return False

    def set_learning_rates(self, lr_g: float, lr_d: float) -> None:
        """Change both base learning rates without touching optimizer state (momenta survive)."""
        self.config = replace(self.config, lr_g=lr_g, lr_d=lr_d)
        self.config.validate()
        self._schedule_learning_rates()

    @property
    def lr_factor(self) -> float:
        """Multiplier on both base learning rates for the next update: 1, then linearly to 0 at the budget."""
        config = self.config
        if config.budget == 0 or config.lr_decay_start >= 1.0:
            return 1.0
        return max(0.0, linear_decay(self.steps, config.budget, config.lr_decay_start))

    def _schedule_learning_rates(self) -> None:
        factor = self.lr_factor
        for optimizer, base in ((self.optimizer_g, self.config.lr_g), (self.optimizer_d, self.config.lr_d)):
            for group in optimizer.param_groups:
                group["lr"] = base * factor

    @property
    def finished(self) -> bool:
        """True once the step budget is spent (never without a budget)."""
        return 0 < self.config.budget <= self.steps

    # ---- sampling -------------------------------------------------------------------------
    @property
    def loss_name(self) -> str:
        return OBJECTIVES[self.config.objective][0]

    def noise(self, count: int) -> torch.Tensor:
        return torch.randn(count, self.config.noise_dim, generator=self.rng)

    def real(self, count: int) -> torch.Tensor:
        return self.target.sample(count, self.rng)

    @torch.no_grad()
    def fake(self, count: int) -> torch.Tensor:
        return self.generator(self.noise(count))

    # ---- training -------------------------------------------------------------------------
    def step_d(self) -> dict[str, float]:
        """One discriminator (critic) update on a fresh real and fake batch."""
        config = self.config
        self._schedule_learning_rates()
        real = self.real(config.batch_size)
        fake = self.fake(config.batch_size)
        terms = discriminator_terms(self.loss_name, self.discriminator(real), self.discriminator(fake))
        loss = terms["D_real"] + terms["D_fake"]
        logged = {name: value.item() for name, value in terms.items()}
        if config.objective == "wgan_gp":
            penalty = self._penalty(real, fake)
            loss = loss + config.gp_weight * penalty
            logged["GP"] = penalty.item()
        self.optimizer_d.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer_d.step()
        if config.objective == "wgan_clip":
            with torch.no_grad():
                for parameter in self.discriminator.parameters():
                    parameter.clamp_(-config.clip, config.clip)
        self.d_updates += 1
        logged["D"] = loss.item()
        self._last_d = logged
        return logged

    def _penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """The shared WGAN-GP penalty, its interpolation draw seeded from the session RNG, global RNG untouched."""
        seed = int(torch.randint(2**62, (1,), generator=self.rng))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return gradient_penalty(self.discriminator, real, fake)

    def step_g(self) -> dict[str, float]:
        """One generator update; records a history row (the latest D losses beside G's)."""
        self._schedule_learning_rates()
        scores = self.discriminator(self.generator(self.noise(self.config.batch_size)))
        loss = generator_loss(self.loss_name, scores)
        self.optimizer_g.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer_g.step()
        self.steps += 1
        row = {"step": float(self.steps), "G_GAN": loss.item(), **self._last_d}
        self.history.append(row)
        del self.history[:-HISTORY_LIMIT]
        if self.steps % self.config.eval_every == 0:
            self.evaluate()
        return row

    def step(self, rounds: int = 1) -> None:
        """`rounds` × (d_steps discriminator updates, then one generator update)."""
        for _ in range(rounds):
            for _ in range(self.config.d_steps):
                self.step_d()
            self.step_g()

    def play(self) -> None:
        self.playing = True

    def pause(self) -> None:
        self.playing = False

    def tick(self, rounds: int) -> bool:
        """Advance by `rounds` only while playing, never past the budget (Play stops there); the page calls
        this on every refresh. True if it stepped."""
        if self.playing and self.finished:
            self.pause()
        if not self.playing:
            return False
        if self.config.budget:
            rounds = min(rounds, self.config.budget - self.steps)
        self.step(rounds)
        if self.finished:
            self.pause()
        return True

    # ---- measuring ------------------------------------------------------------------------
    def evaluate(self) -> dict[str, float]:
        """Histogram KL/JS and (for targets with modes) mode metrics on fresh samples; appended to `evaluations`."""
        real = self.real(EVAL_SAMPLES).numpy()
        fake = self.fake(EVAL_SAMPLES).numpy()
        row = {"step": float(self.steps), **divergences(real, fake, self.target.extent)}
        if self.target.has_modes:
            metrics = mode_metrics(fake, self.target.centres, self.target.sigma, threshold=_threshold(EVAL_SAMPLES))
            row |= {"modes": float(metrics.captured), "high_quality": metrics.high_quality}
        self.evaluations.append(row)
        del self.evaluations[:-HISTORY_LIMIT]
        return row


def _threshold(samples: int) -> int:
    """PacGAN's 20-of-2,500 rule scaled to the sample count."""
    return max(1, round(20 * samples / 2500))


def _same_target(first: Target, second: Target) -> bool:
    if first.name != second.name or first.kind != second.kind:
        return False
    if first.points is None or second.points is None:
        return first.points is second.points
    return first.points.shape == second.points.shape and bool(np.array_equal(first.points, second.points))
