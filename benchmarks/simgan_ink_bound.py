"""How much can fixing the ink alone teach the SimGAN benchmark's classifier? A bound for what a refiner that keeps
shapes can add.

A SimGAN refiner changes how strokes look (grey, soft edges into MNIST's saturated ones) and, by design, not what
shape they draw. This replaces the refiner with a hand-made ink fix, a contrast stretch of the raw synthetic digits'
pixels from [lo, hi] to [0, 1], and trains and tests `simgan_utility.py`'s classifier on the stretched digits exactly
as that benchmark does (same 10,000 digits of renderer seed 2, same classifier seeds, mnist_5k's held-out digits).
If no stretch gains much over raw digits, neither can a refiner whose gain comes from ink.

    OMP_NUM_THREADS=1 python benchmarks/simgan_ink_bound.py

Prints a Markdown table: each stretch, its ink statistics (share of ink pixels that are grey, 0.2-0.8, and
saturated, > 0.9; mnist_5k's held-out digits beside them) and the classifier's held-out accuracy per seed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import warnings
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from simgan_utility import SYNTHETIC_SEED, add_classifier_arguments, simulator, train_and_test  # noqa: E402

from gan_core.data.catalogue import load_dataset  # noqa: E402
from gan_core.data.types import to_unit_range  # noqa: E402

STRETCHES = ((0.0, 1.0), (0.15, 0.65), (0.25, 0.6), (0.3, 0.5))
"""(lo, hi) pixel ranges stretched to [0, 1]; (0, 1) is the raw digits."""


def ink_shares(images: torch.Tensor) -> tuple[float, float]:
    """(grey, saturated): shares of ink pixels (> 0.05) in (0.2, 0.8) and above 0.9, for images in [0, 1]."""
    ink = (images > 0.05).float().sum()
    grey = ((images > 0.2) & (images < 0.8)).float().sum() / ink
    return float(grey), float((images > 0.9).float().sum() / ink)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_classifier_arguments(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)
    images, labels = simulator(args.fonts).sample(args.synthetic, SYNTHETIC_SEED)
    raw = images.float() / 255
    real = load_dataset("mnist_5k", images.shape[-1])
    test_images, test_labels = to_unit_range(real.test_images), real.test_labels
    grey, saturated = ink_shares(real.test_images.float() / 255)
    print(f"| stretch | grey / saturated share (real: {grey:.2f} / {saturated:.2f}) | per seed "
          f"({', '.join(map(str, args.seeds))}) | mean |")
    print("|---|---|---|---|")
    for low, high in STRETCHES:
        stretched = ((raw - low) / (high - low)).clamp(0, 1)
        accuracy = [train_and_test(stretched * 2 - 1, labels, test_images, test_labels, seed, args.steps,
                                   args.batch_size) for seed in args.seeds]
        grey, saturated = ink_shares(stretched)
        name = "none (raw)" if (low, high) == (0.0, 1.0) else f"{low}-{high}"
        print(f"| {name} | {grey:.2f} / {saturated:.2f} | {', '.join(f'{a:.3f}' for a in accuracy)} | "
              f"{statistics.mean(accuracy):.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
