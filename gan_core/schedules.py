"""Learning-rate schedules, shared by the trainer's variants and the 2-D playground."""

from __future__ import annotations


def linear_decay(step: int, total_steps: int, start: float) -> float:
    """Learning-rate factor: 1 for the first `start` share of the steps, then linearly towards 0.

    At start=0.5 this is the official CycleGAN/pix2pix "linear" policy (n_epochs constant, then
    n_epochs_decay falling), with steps in place of epochs.
    """
    decay_steps = int(total_steps * (1.0 - start))
    constant_steps = total_steps - decay_steps
    return 1.0 - max(0, step + 1 - constant_steps) / (decay_steps + 1)
