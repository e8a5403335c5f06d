"""A tqdm progress bar for the command line, fed by the trainer's callbacks."""

from __future__ import annotations

from tqdm import tqdm

from gan_core.training.trainer import Callback, RunResult, Trainer


class ProgressBar(Callback):
    def on_start(self, trainer: Trainer) -> None:
        self.bar = tqdm(total=trainer.config.steps, initial=trainer.step, unit="step",
                        desc=f"{trainer.config.variant} on {trainer.device_name}", dynamic_ncols=True)
        self.last_step = trainer.step

    def on_log(self, step: int, metrics: dict[str, float]) -> None:
        self.bar.update(step - self.last_step)
        self.last_step = step
        shown = {k: f"{v:.3g}" for k, v in metrics.items() if k.rsplit("/", 1)[-1].startswith(("D_", "G_", "W_", "info"))}
        shown["img/s"] = f"{metrics['images_per_s']:.0f}"
        self.bar.set_postfix(shown, refresh=False)

    def on_end(self, result: RunResult) -> None:
        self.bar.close()
