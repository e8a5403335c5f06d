"""LAPGAN against a single-scale conditional GAN of about the same size, trained for the same time; and what each
pyramid level adds.

For every seed, two runs on mnist_5k at 32×32 with the same batch (32, LAPGAN's default), noise (64 dimensions), optimiser (Adam 2e-4,
β1 0.5), EMA (0.999) and no learning-rate decay:
- `lapgan` with its registry defaults (width 32);
- `cgan` with the width whose parameter count (generator and discriminator together) is closest to LAPGAN's
  (both players' counts are printed).
Each trains until it has used `--budget-s` seconds of CPU time of its own process at one thread (the wall time it
would take alone on one core: on the shared machine wall time mostly measures the neighbours' load), then
is scored with `gan_core.metrics.evaluate_generator` (`--samples` samples from seed 0, labels spread evenly; the
mnist_5k judge; Fréchet against the 1,000 held-out digits).

The per-level table samples the LAPGAN generator as the chain does and measures each level's image, brought to 32×32
by upsampling (bilinear, as the pyramid's u), with the same judge: label accuracy and Fréchet. Beside it, the same
measure of the real training digits' pyramid levels (the held-out digits are the reference), which says what a
perfect level k could score: a blurred real digit is not a real digit to the judge either.

    OMP_NUM_THREADS=1 nice -n 5 python -m benchmarks.lapgan_quality --seeds 0 1 2 --budget-s 120

`--checkpoints FILE ...` instead scores trained files level by level, each finer level given the real coarser
image (`levels_on_real_inputs`): the measure that shows which level fails.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from gan_core.checkpoints import LoadedGenerator, load_generator
from gan_core.data.catalogue import load_dataset
from gan_core.data.types import to_unit_range
from gan_core.judge import load_judge
from gan_core.metrics import DigitsReference, evaluate_generator, frechet_distance
from gan_core.pyramid import build_pyramid, to_size
from gan_core.registry import config_for, get_variant
from gan_core.training import Callback, train

SHARED = dict(dataset="mnist_5k", image_size=32, batch_size=32, noise_dim=64, lr_g=2e-4, lr_d=2e-4, beta1=0.5,
              ema_decay=0.999, lr_decay_start=1.0, steps=1_000_000, log_every=10, sample_every=1_000_000,
              checkpoint_every=1_000_000, device="cpu")


class CpuBudget(Callback):
    """Stops a run once its process has used `seconds` of CPU time since training began."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_start(self, trainer) -> None:
        self.trainer = trainer
        self.began_cpu, self.began_wall = time.process_time(), time.perf_counter()

    def should_stop(self) -> bool:
        return time.process_time() - self.began_cpu >= self.seconds

    def on_end(self, result) -> None:
        self.steps = result.step
        self.cpu_s = time.process_time() - self.began_cpu
        self.wall_s = time.perf_counter() - self.began_wall


def parameters(variant: str, **settings) -> tuple[int, int]:
    """(generator, discriminator) parameter counts of `variant` on 32×32 digits with `settings`."""
    model = get_variant(variant).model_class(config_for(variant, **{**SHARED, **settings}), (1, 32, 32), 10)
    return (sum(p.numel() for p in model.generator.parameters()),
            sum(p.numel() for p in model.discriminator.parameters()))


def matched_cgan_width() -> int:
    """The cgan width whose generator and discriminator together are closest in size to LAPGAN's."""
    target = sum(parameters("lapgan"))
    return min(range(4, 65), key=lambda width: abs(sum(parameters("cgan", width=width)) - target))


def train_for_budget(variant: str, seed: int, budget_s: float, out: Path, **settings) -> tuple[Path, CpuBudget]:
    budget = CpuBudget(budget_s)
    config = config_for(variant, **{**SHARED, **settings, "seed": seed})
    result = train(config, out, [budget])
    if result.status not in ("cancelled", "finished"):
        raise SystemExit(f"{variant} seed {seed}: {result.status}: {result.message}")
    return out / "generator.safetensors", budget


def sample_levels(model: LoadedGenerator, n: int, seed: int) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Every level's images of `n` chained samples (labels spread evenly, as the metrics draw them), and the labels."""
    rng = torch.Generator().manual_seed(seed)
    parts = model.layout.sample_parts(n, torch.device("cpu"), rng)
    parts["labels"] = torch.arange(n) % model.layout.num_labels
    with torch.inference_mode():
        stages = model.generator.stages(model.layout.compose(**parts))
    return [image.float() for image in stages.images], parts["labels"]


def level_scores(images: list[torch.Tensor], labels: torch.Tensor, judge, reference: DigitsReference) -> list[dict]:
    rows = []
    for image in images:
        predicted, features = judge.predict(to_size(image, 32))
        rows.append({"side": image.shape[-1], "label_accuracy": float((predicted == labels).float().mean()),
                     "frechet": frechet_distance(features, reference.test_features)})
    return rows


def real_level_scores(judge, reference: DigitsReference) -> list[dict]:
    data = load_dataset("mnist_5k", 32)
    images = build_pyramid(to_unit_range(data.images), 3).images()
    return level_scores(images, data.labels, judge, reference)


def levels_on_real_inputs(model: LoadedGenerator, judge, reference: DigitsReference, seed: int = 0) -> list[dict]:
    """Each finer level given the real coarser image instead of the chain's: where the levels are trained, so a
    level that scores far below the real image of its side is the one that fails, whatever the levels below do.
    Also, from that real coarser image, the rest of the chain to the final side ("chained"): what the finest
    image loses from level k up, so the losses of the levels add up to the sampled chain's.

    1,000 training digits (every fourth: 100 of each class), their real pyramid, and each level's generated
    residual added to the real coarser image; scored at 32×32 like `level_scores`.
    """
    data = load_dataset("mnist_5k", 32)
    images, labels = to_unit_range(data.images[::4]), data.labels[::4]
    real = build_pyramid(images, len(model.generator.sizes)).images()
    one_hot = torch.nn.functional.one_hot(labels, model.layout.num_labels).float()
    rng = torch.Generator().manual_seed(seed)
    noises = [torch.randn(len(labels), model.generator.noise_dims[k], generator=rng) for k in range(len(real))]

    def refine(image: torch.Tensor, k: int) -> torch.Tensor:
        return model.generator.refine(k, noises[k], image, one_hot)[1]

    generated, chained = [], []
    with torch.inference_mode():
        for k in range(1, len(real)):
            generated.append(refine(real[k - 1], k))
            final = generated[-1]
            for finer in range(k + 1, len(real)):
                final = refine(final, finer)
            chained.append(final)
    rows = []
    for k, (made, made_row, chain_row, real_row) in enumerate(zip(
            generated, level_scores(generated, labels, judge, reference), level_scores(chained, labels, judge, reference),
            level_scores(real[1:], labels, judge, reference)), start=1):
        rows.append({"level": k, "side": made.shape[-1], "generated": made_row, "chained": chain_row, "real": real_row})
    return rows


def print_levels_on_real_inputs(path: Path, judge, reference: DigitsReference) -> None:
    model = load_generator(path)
    print(f"\n{path} (step {model.step}): each level given the real coarser image\n")
    print("| level | side | generated on the real coarser image: label accuracy / Fréchet | real image of that side "
          "| chained from there to the final side |")
    print("|---|---|---|---|---|")
    for row in levels_on_real_inputs(model, judge, reference):
        made, real, chained = row["generated"], row["real"], row["chained"]
        print(f"| {row['level']} | {row['side']}×{row['side']} | {made['label_accuracy']:.3f} / {made['frechet']:.2f} "
              f"| {real['label_accuracy']:.3f} / {real['frechet']:.2f} "
              f"| {chained['label_accuracy']:.3f} / {chained['frechet']:.2f} |")


def run_seeds(args, judge, reference: DigitsReference, width: int, results_file: Path) -> None:
    """Train and score both models for every seed, appending one JSON line per run to `results_file`."""
    for seed in args.seeds:
        for variant, settings in (("lapgan", {}), ("cgan", {"width": width})):
            if variant not in args.variants:
                continue
            path, budget = train_for_budget(variant, seed, args.budget_s, args.out_dir / f"{variant}-s{seed}", **settings)
            model = load_generator(path)
            scores = evaluate_generator(model, judge, reference, n=args.samples, seed=0)
            row = {"variant": variant, "seed": seed, "steps": budget.steps, "cpu_s": round(budget.cpu_s, 1),
                   "wall_s": round(budget.wall_s, 1), "label_accuracy": scores["label_accuracy"],
                   "frechet": scores["frechet_distance"], "diversity": scores["intra_class_diversity"]}
            if variant == "lapgan":
                row["levels"] = level_scores(*sample_levels(model, args.samples, 0), judge, reference)
            with results_file.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)


def print_tables(rows: list[dict], sizes: dict[str, tuple[int, int]], real: list[dict], real_vs_real: float) -> None:
    print(f"\nreal vs real Fréchet {real_vs_real:.2f}\n")
    print("| model | parameters G / D | seed | steps in the budget (wall) | label accuracy | Fréchet | intra-class diversity |")
    print("|---|---|---|---|---|---|---|")
    for variant in ("lapgan", "cgan"):
        runs = [row for row in rows if row["variant"] == variant]
        if not runs:
            continue
        for row in runs:
            print(f"| {variant} | {sizes[variant][0]:,} / {sizes[variant][1]:,} | {row['seed']} | {row['steps']:,} "
                  f"({row['wall_s'] / 60:.1f} min) | {row['label_accuracy']:.3f} | {row['frechet']:.2f} | "
                  f"{row['diversity']:.2f} |")
        accuracy = statistics.median(row["label_accuracy"] for row in runs)
        frechet = statistics.median(row["frechet"] for row in runs)
        print(f"| **{variant} median** | | {len(runs)} seeds | | **{accuracy:.3f}** | **{frechet:.2f}** | |")
    levels = [row["levels"] for row in rows if row["variant"] == "lapgan"]
    if not levels:
        return
    print("\n| level | side | LAPGAN label accuracy (per seed; median) | LAPGAN Fréchet (per seed; median) | "
          "real digits at this level: label accuracy / Fréchet |")
    print("|---|---|---|---|---|")
    for k, real_row in enumerate(real):
        accuracies = [seed_levels[k]["label_accuracy"] for seed_levels in levels]
        frechets = [seed_levels[k]["frechet"] for seed_levels in levels]
        print(f"| {k} | {real_row['side']}×{real_row['side']} | {', '.join(f'{a:.3f}' for a in accuracies)}; "
              f"**{statistics.median(accuracies):.3f}** | {', '.join(f'{f:.2f}' for f in frechets)}; "
              f"**{statistics.median(frechets):.2f}** | {real_row['label_accuracy']:.3f} / {real_row['frechet']:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budget-s", type=float, default=120.0, help="CPU seconds of training per run")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--out-dir", type=Path, default=Path("/tmp/lapgan_quality"))
    parser.add_argument("--variants", nargs="+", choices=("lapgan", "cgan"), default=["lapgan", "cgan"],
                        help="train only these (the other's rows may come from an earlier run in OUT_DIR)")
    parser.add_argument("--checkpoints", type=Path, nargs="+", default=[],
                        help="only score these LAPGAN files level by level on real coarser images, training nothing")
    parser.add_argument("--tables-only", action="store_true",
                        help="print the tables from the runs already in OUT_DIR/results.jsonl, training nothing")
    args = parser.parse_args()
    torch.set_num_threads(1)
    judge = load_judge(dataset="mnist_5k")
    reference = DigitsReference(judge)
    if args.checkpoints:
        for path in args.checkpoints:
            print_levels_on_real_inputs(path, judge, reference)
        return
    width = matched_cgan_width()
    sizes = {"lapgan": parameters("lapgan"), "cgan": parameters("cgan", width=width)}
    print(f"cgan width {width}; parameters (G, D): lapgan {sizes['lapgan']}, cgan {sizes['cgan']}", flush=True)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    results_file = args.out_dir / "results.jsonl"
    if not args.tables_only:
        run_seeds(args, judge, reference, width, results_file)
    rows = [json.loads(line) for line in results_file.read_text(encoding="utf-8").splitlines()]
    print_tables(rows, sizes, real_level_scores(judge, reference), reference.real_vs_real_frechet)


if __name__ == "__main__":
    main()
