"""The generic training loop, its callbacks, and the background job manager."""

from gan_core.training.trainer import Callback, RunResult, Trainer, train

__all__ = ["Callback", "RunResult", "Trainer", "train"]
