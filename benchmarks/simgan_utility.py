"""Is a refined synthetic digit worth more than a raw one? SimGAN's own test, on mnist_5k.

The same small classifier (fixed architecture, step budget, batch and optimiser; the seed decides its initial
weights and batch order) is trained on (a) raw synthetic digits from the font renderer, (b) the same digits
refined by a SimGAN refiner, both with the renderer's labels, and (c) mnist_5k's 4,000 real training digits, for
scale. Each is tested on mnist_5k's 1,000 held-out real digits, for every seed. The synthetic training digits use
their own renderer seed, so none is a digit the refiner trained on. Also reported: the mean per-pixel L1 change
refinement makes, and how often the shipped mnist_5k judge reads each refined (and raw) digit as its rendered label.
`--fonts printed` draws the synthetic digits from printed fonts only (the simulator before it drew handwriting), to
compare the two simulators, and refiners trained on either, on the same scale.

    OMP_NUM_THREADS=1 python benchmarks/simgan_utility.py --checkpoint checkpoints/simgan-mnist.safetensors

Prints a Markdown table and writes benchmarks/results/simgan_utility.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gan_core.checkpoints import load_generator  # noqa: E402
from gan_core.data.catalogue import load_dataset  # noqa: E402
from gan_core.data.synthetic_digits import Renderer, font_sources, is_handwriting  # noqa: E402
from gan_core.data.types import to_unit_range  # noqa: E402
from gan_core.judge import load_judge  # noqa: E402
from gan_core.refine import judge_agreement, refine_random, refiner_size  # noqa: E402

SYNTHETIC_SEED = 2  # the renderer's seed for the classifiers' synthetic digits (the refiner trained on seed 0)


def classifier() -> nn.Module:
    """The fixed small CNN every training set gets: two conv-pool stages and two linear layers."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.LazyLinear(64), nn.ReLU(), nn.Linear(64, 10))


def train_and_test(images: torch.Tensor, labels: torch.Tensor, test_images: torch.Tensor, test_labels: torch.Tensor,
                   seed: int, steps: int, batch_size: int) -> float:
    """Held-out accuracy of the classifier trained for `steps` Adam steps on (images in [-1, 1], labels)."""
    torch.manual_seed(seed)
    order = torch.Generator().manual_seed(seed)
    net = classifier()
    net(images[:1])  # materialise the lazy layer before the optimiser sees the parameters
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(steps):
        index = torch.randint(0, images.shape[0], (batch_size,), generator=order)
        loss = F.cross_entropy(net(images[index]), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    net.eval()
    with torch.inference_mode():
        predicted = torch.cat([net(test_images[i:i + 500]).argmax(1) for i in range(0, len(test_images), 500)])
    return float((predicted == test_labels).float().mean())


def simulator(fonts: str) -> Renderer:
    """The renderer the classifiers' synthetic digits come from: the simulator's own fonts (handwriting, where
    installed), or only the printed ones (matplotlib's, Pillow's and Debian's DejaVu), the simulator before it
    drew handwriting."""
    if fonts == "printed":
        return Renderer([source for source in font_sources() if not is_handwriting(source[1])])
    return Renderer()


def add_classifier_arguments(parser: argparse.ArgumentParser) -> None:
    """The settings of the classifier test and of its synthetic digits, shared with `simgan_ink_bound.py`."""
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=1500, help="classifier steps (the same for every training set)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--synthetic", type=int, default=10_000, help="synthetic training digits")
    parser.add_argument("--fonts", choices=("simulator", "printed"), default="simulator",
                        help="the synthetic digits' fonts: the simulator's (handwriting fonts where installed) or "
                             "printed fonts only")


def summary(values: list[float]) -> dict[str, float]:
    return {"mean": statistics.mean(values), "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
            "median": statistics.median(values), "min": min(values), "max": max(values)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "simgan-mnist.safetensors"))
    add_classifier_arguments(parser)
    parser.add_argument("--sets", nargs="+", choices=("raw", "refined", "real"), default=["raw", "refined", "real"],
                        help="which training sets to run (raw and real do not depend on the refiner: with the same "
                             "seeds and one thread they give the same numbers for every checkpoint)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "simgan_utility.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)  # fonts skipped by the renderer are listed once, not per run
    started = time.perf_counter()

    loaded = load_generator(Path(args.checkpoint))
    size = refiner_size(loaded.generator, loaded.dataset.image_shape)
    real = load_dataset("mnist_5k", size)
    renderer = simulator(args.fonts)
    batch = refine_random(loaded.generator, size, renderer, args.synthetic, SYNTHETIC_SEED)
    judge = load_judge(dataset="mnist_5k")
    raw = to_unit_range(batch.synthetic)
    sets = {"raw synthetic": (raw, batch.labels), "refined synthetic": (batch.refined, batch.labels),
            "real (mnist_5k train)": (to_unit_range(real.images), real.labels)}
    sets = {name: data for name, data in sets.items() if name.split()[0] in args.sets}
    test_images, test_labels = to_unit_range(real.test_images), real.test_labels
    results: dict[str, list[float]] = {name: [] for name in sets}
    for name, (images, labels) in sets.items():
        for seed in args.seeds:
            results[name].append(train_and_test(images, labels, test_images, test_labels, seed, args.steps,
                                                 args.batch_size))
            print(f"{name}, seed {seed}: {results[name][-1]:.3f}", file=sys.stderr)
    report = {
        "checkpoint": Path(args.checkpoint).name, "seeds": args.seeds, "classifier_steps": args.steps,
        "batch_size": args.batch_size, "synthetic_digits": args.synthetic, "renderer_seed": SYNTHETIC_SEED,
        "fonts": list(renderer.fonts),
        "accuracy": {name: {"per_seed": values, **summary(values)} for name, values in results.items()},
        "mean_l1_refined_vs_synthetic": batch.mean_l1(),
        "judge_agreement_refined": judge_agreement(judge, batch.refined, batch.labels),
        "judge_agreement_raw": judge_agreement(judge, raw, batch.labels),
        "seconds": round(time.perf_counter() - started, 1),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(f"| training set ({args.synthetic:,} synthetic digits in {len(renderer.fonts)} {args.fonts} fonts, renderer "
          f"seed {SYNTHETIC_SEED}) | held-out real "
          f"accuracy, mean ± sd | median | per seed ({', '.join(map(str, args.seeds))}) |")
    print("|---|---|---|---|")
    for name, values in results.items():
        stats = summary(values)
        print(f"| {name} | {stats['mean']:.3f} ± {stats['stdev']:.3f} | {stats['median']:.3f} | "
              f"{', '.join(f'{v:.3f}' for v in values)} |")
    if {"raw synthetic", "refined synthetic"} <= set(results):
        gain = summary(results["refined synthetic"])["mean"] - summary(results["raw synthetic"])["mean"]
        print(f"\nrefined − raw: {100 * gain:+.1f} points")
    print(f"mean L1 refined–synthetic {report['mean_l1_refined_vs_synthetic']:.4f}"
          f" (pixels in [0, 1]); judge agrees with the rendered label on {report['judge_agreement_refined']:.3f} of "
          f"refined digits ({report['judge_agreement_raw']:.3f} of raw ones); {report['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
