"""What the resume tests share: stop a run at a chosen step, as the app's Cancel button would, and check
that resuming it ends exactly where an uninterrupted run ends."""

from pathlib import Path

import torch

from gan_core.training import Callback, train
from gan_core.training.run_files import RunFiles


class StopAtStep(Callback):
    """Cancels a run once it reaches `step`."""

    def __init__(self, step: int):
        self.step = step

    def on_start(self, trainer):
        self.trainer = trainer

    def should_stop(self):
        return self.trainer.step == self.step


def assert_resume_is_exact(config, folder: Path, dataset, stop_at: int) -> tuple[dict, dict]:
    """Train `config` straight through, and again cancelled at `stop_at` then resumed; every tensor of the two
    final models must agree. Returns both resume states (straight, resumed) for a test's own checks."""
    straight = train(config, folder / "straight", dataset=dataset)
    assert train(config, folder / "split", [StopAtStep(stop_at)], dataset=dataset).status == "cancelled"
    resumed = train(config, folder / "split", dataset=dataset, resume=True)
    assert straight.status == resumed.status == "finished"
    a = torch.load(folder / "straight" / "resume.pt", weights_only=True)
    b = torch.load(folder / "split" / "resume.pt", weights_only=True)
    assert a["step"] == b["step"] == config.steps
    for key, value in a["model"].items():
        torch.testing.assert_close(b["model"][key], value, rtol=1e-5, atol=1e-6, msg=key)
    return a, b


def logged_steps(folder: Path) -> list[int]:
    """The steps a run's metrics file holds, in order: after a resume none may be lost or repeated."""
    return [row["step"] for row in RunFiles(folder).read_metrics()]
