"""The trainer's inner loop makes no per-step host syncs (counted, not timed).

Every Tensor method that forces the host to wait for the device (`item`, `tolist`, `cpu`, `numpy`,
`__bool__`, `__float__`, `__int__`) is wrapped to count calls whose caller lives in gan_core. A run of
4 steps and a run of 16 steps, each logging once, must make the same number: syncs may happen per log
interval or per checkpoint, never per step.
"""

import sys

import pytest
import torch

from gan_core.registry import config_for
from gan_core.training import train

SYNCING_METHODS = ("item", "tolist", "cpu", "numpy", "__bool__", "__float__", "__int__")


class SyncCounter:
    def __init__(self) -> None:
        self.count = 0

    def wrap(self, original):
        def counted(tensor, *args, **kwargs):
            caller = sys._getframe(1).f_code.co_filename
            if "gan_core" in caller and "data" not in caller.split("gan_core")[-1][:6]:
                self.count += 1
            return original(tensor, *args, **kwargs)

        return counted


def syncs_for(variant: str, steps: int, dataset, tmp_path, monkeypatch) -> int:
    counter = SyncCounter()
    config = config_for(variant, steps=steps, image_size=16, width=8, batch_size=8, device="cpu",
                        log_every=steps, sample_every=10_000, checkpoint_every=10_000, seed=0)
    with monkeypatch.context() as patch:
        for name in SYNCING_METHODS:
            patch.setattr(torch.Tensor, name, counter.wrap(getattr(torch.Tensor, name)))
        result = train(config, tmp_path / f"{variant}-{steps}", dataset=dataset)
    assert result.status == "finished"
    return counter.count


@pytest.mark.parametrize("variant", ["dcgan", "cgan", "infogan", "wgan_gp"])
def test_host_syncs_do_not_grow_with_steps(variant, digits16, tmp_path, monkeypatch):
    short = syncs_for(variant, 4, digits16, tmp_path, monkeypatch)
    long = syncs_for(variant, 16, digits16, tmp_path, monkeypatch)
    assert short > 0, "the counter sees the once-per-log sync, so it can see a per-step one"
    assert long == short, f"{variant}: {long - short} extra host syncs over 12 extra steps"
