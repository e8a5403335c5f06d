"""The playground's lessons: settings that each show one thing about GAN training, and what to watch.

With its defaults the playground finds every mode, so a newcomer never sees a GAN fail. Each lesson is a
set of `ToyConfig` fields on top of the defaults; `benchmarks/playground_lessons.py` trains each one for
several seeds and BENCHMARKS.md ("2-D playground: lessons") reports what it shows, so every sentence
below describes what was measured, not what the textbooks promise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gan_core.toy2d.model import ToyConfig, default_config


@dataclass(frozen=True)
class Lesson:
    title: str
    watch: str  # one sentence: what to look at while it plays
    settings: dict[str, object] = field(default_factory=dict)

    def config(self) -> ToyConfig:
        """The playground's defaults for the lesson's objective, with the lesson's fields on top."""
        objective = str(self.settings.get("objective", ToyConfig.objective))
        return default_config(objective, **{k: v for k, v in self.settings.items() if k != "objective"})


LESSONS: tuple[Lesson, ...] = (
    Lesson("Free play: the defaults", "A ring of 8 with the minimax loss and decaying learning rates: every mode "
           "is found within about 16 seconds of play. Change anything and watch what breaks."),
    Lesson("Mode collapse", "A 5×5 grid, the non-saturating loss, constant learning rates, 2,000 steps: the purple "
           "points gather on a few modes instead of covering all 25; watch \"Modes captured\" stay low (2, 3 and 8 "
           "of 25 in three seeds).",
           {"target": "grid25", "objective": "nonsaturating", "budget": 2000, "lr_decay_start": 1.0}),
    Lesson("The cure for the grid: time and decaying rates", "The same grid with the minimax loss, 10,000 steps and "
           "learning rates falling to 0 over the last 40%: the samples reach every mode (25 of 25 in five of five "
           "seeds), and the decay sharpens each one at the end.", {"target": "grid25", "objective": "minimax"}),
    Lesson("A discriminator that is too strong", "Five D steps per G step at 50 times G's learning rate, with the "
           "original minimax loss: D tells real from fake almost at once, and the gradient it gives G (the lines "
           "from the purple points) is too weak to pull the samples onto the ring (0, 1 and 0 of 8 modes in "
           "three seeds).", {"objective": "minimax", "d_steps": 5, "lr_d": 5e-3, "lr_g": 1e-4, "budget": 2000,
                              "lr_decay_start": 1.0}),
    Lesson("The non-saturating loss against a strong D", "The same over-strong discriminator, but G maximises "
           "log D(G(z)) instead of minimising log(1 − D(G(z))): its gradient does not vanish, so the samples do "
           "reach the data (97% near a mode, against 32% above), but all on one mode: a stronger gradient is no "
           "cure for collapse.",
           {"objective": "nonsaturating", "d_steps": 5, "lr_d": 5e-3, "lr_g": 1e-4, "budget": 2000,
            "lr_decay_start": 1.0}),
    Lesson("Weight clipping starves the critic", "WGAN with its weights clipped to ±0.01: the critic can only "
           "draw a nearly flat surface, so the samples crawl and most modes stay empty (1.8 of 8 on average, "
           "5% of samples near a mode).", {"objective": "wgan_clip", "budget": 5000}),
    Lesson("The gradient penalty instead", "WGAN-GP on the same ring: the critic's surface has slopes again "
           "and the samples reach every mode (8 of 8 in five of five seeds).", {"objective": "wgan_gp", "budget": 5000}),
)
