"""BigGAN against the shipped CGAN on mnist_5k: judge scores, the truncation trade-off, and the cost of a step.

Prints three markdown tables for BENCHMARKS.md:
1. label accuracy, intra-class diversity (generated over real) and Fréchet distance in the judge's features
   (against the 1,000 held-out digits; real training split vs held-out for scale) for both checkpoints,
   no truncation, `--samples` samples from `--seed`, labels spread evenly;
2. BigGAN's truncation table: threshold → the same three scores (same seed: the labels and every noise value
   inside the threshold are shared across rows);
3. the wall time of one training step of each, rebuilt from the configs in the checkpoints' metadata, on real
   mnist_5k batches, at one thread, timed in alternating rounds so machine load hits both alike.

    OMP_NUM_THREADS=1 python -m benchmarks.biggan_quality
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from gan_core.checkpoints import LoadedGenerator, load_generator
from gan_core.data.catalogue import load_dataset
from gan_core.data.types import BatchSampler
from gan_core.inference import require_conditional
from gan_core.judge import load_judge
from gan_core.metrics import DigitsReference, evaluate_generator
from gan_core.registry import get_variant

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"
THRESHOLDS = (2.0, 1.5, 1.0, 0.75, 0.5, 0.25, 0.1)


def scores(model: LoadedGenerator, judge, reference, samples: int, seed: int, truncation: float | None) -> dict:
    result = evaluate_generator(model, judge, reference, n=samples, seed=seed, truncation=truncation)
    return {key: result[key] for key in ("label_accuracy", "intra_class_diversity", "frechet_distance")}


def step_seconds(models: dict[str, LoadedGenerator], rounds: int, steps: int, seed: int) -> dict[str, list[float]]:
    """Seconds per training step of each model's recipe, `rounds` alternating rounds of `steps` steps."""
    trainers = {}
    for name, loaded in models.items():
        config = loaded.config
        data = load_dataset(config.dataset, config.image_size)
        torch.manual_seed(seed)
        model = get_variant(config.variant).model_class(config, data.image_shape, data.num_classes)
        model.attach_optimizers(model.configure_optimizers())
        trainers[name] = (model, BatchSampler(data, config.batch_size, torch.device("cpu")))
        model.train_step(trainers[name][1])  # warm-up: first-call allocations are not a step's cost
    timings: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, (model, batches) in trainers.items():
            began = time.perf_counter()
            for _ in range(steps):
                model.prepare_step(model.steps_done + 1)
                model.train_step(batches)
            timings[name].append((time.perf_counter() - began) / steps)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=CHECKPOINTS / "biggan-mnist.safetensors")
    parser.add_argument("--baseline", type=Path, default=CHECKPOINTS / "cgan-mnist.safetensors")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5, help="training steps timed per round")
    args = parser.parse_args()
    torch.set_num_threads(1)

    biggan, baseline = require_conditional(load_generator(args.checkpoint)), require_conditional(load_generator(args.baseline))
    judge = load_judge(dataset=biggan.dataset.name)
    reference = DigitsReference(judge)
    print(f"judge held-out accuracy {judge.held_out_accuracy:.3f}; Fréchet real train vs held-out "
          f"{reference.real_vs_real_frechet:.2f}; {args.samples} samples, seed {args.seed}\n")

    print("| model | step | label accuracy | intra-class diversity | Fréchet (judge features) |\n|---|---|---|---|---|")
    for model in (biggan, baseline):
        row = scores(model, judge, reference, args.samples, args.seed, None)
        print(f"| {model.path.stem} | {model.step} | {row['label_accuracy']:.3f} | {row['intra_class_diversity']:.3f} | "
              f"{row['frechet_distance']:.2f} |")

    print("\n| truncation threshold | label accuracy | intra-class diversity | Fréchet (judge features) |\n|---|---|---|---|")
    for threshold in (None, *THRESHOLDS):
        row = scores(biggan, judge, reference, args.samples, args.seed, threshold)
        print(f"| {'none' if threshold is None else f'{threshold:g}'} | {row['label_accuracy']:.3f} | "
              f"{row['intra_class_diversity']:.3f} | {row['frechet_distance']:.2f} |")

    timings = step_seconds({"biggan": biggan, "baseline": baseline}, args.rounds, args.steps, args.seed)
    print("\n| model | batch | D steps per G step | s per step (median of rounds) | rounds | images/s |\n|---|---|---|---|---|---|")
    for name, model in (("biggan", biggan), ("baseline", baseline)):
        median = statistics.median(timings[name])
        config = model.config
        print(f"| {model.path.stem} | {config.batch_size} | {config.n_critic} | {median:.3f} | "
              f"{', '.join(f'{value:.3f}' for value in timings[name])} | {config.batch_size / median:.0f} |")
    ratio = statistics.median(timings["biggan"]) / statistics.median(timings["baseline"])
    print(f"\nBigGAN step / CGAN step: {ratio:.2f}×")


if __name__ == "__main__":
    main()
