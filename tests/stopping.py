"""A callback the resume tests share: stop a run at a chosen step, as the app's Cancel button would."""

from gan_core.training import Callback


class StopAtStep(Callback):
    """Cancels a run once it reaches `step`."""

    def __init__(self, step: int):
        self.step = step

    def on_start(self, trainer):
        self.trainer = trainer

    def should_stop(self):
        return self.trainer.step == self.step
