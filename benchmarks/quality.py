"""Train every noise-to-image variant on an embedded digit set for the same budget and print one table.

Columns: variant, steps, wall time, images/s, Fréchet distance in judge features (real-vs-real for
scale), label or category accuracy, intra-class diversity, class coverage, and for the conditional
variants the training wall time at which label accuracy first reached 0.97 (evaluated every
`--eval-every` steps; evaluation time is not counted).

    python -m benchmarks.quality --steps 1500 --device cpu                    # mnist_5k, the default
    python -m benchmarks.quality --steps 1500 --device cpu --dataset digits   # the 8×8 set
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch

from gan_core.checkpoints import load_generator
from gan_core.judge import JUDGED_DATASETS, load_judge
from gan_core.metrics import DigitsReference, evaluate_generator
from gan_core.registry import config_for, variants
from gan_core.training import Callback, train

TARGET_ACCURACY = 0.97


class AccuracyWatch(Callback):
    """At each checkpoint, measures label/category accuracy and notes when it first passes the target."""

    def __init__(self, judge, reference, run_dir: Path) -> None:
        self.judge, self.reference, self.run_dir = judge, reference, run_dir
        self.eval_seconds = 0.0
        self.reached_at: float | None = None
        self.trace: list[tuple[int, float, float]] = []

    def on_start(self, trainer) -> None:
        self.started = time.perf_counter()

    def on_checkpoint(self, step: int) -> None:
        began = time.perf_counter()
        scores = evaluate_generator(load_generator(self.run_dir / "generator.safetensors"), self.judge,
                                    self.reference, n=500, seed=1)
        accuracy = scores.get("label_accuracy", scores.get("category_accuracy"))
        training_time = began - self.started - self.eval_seconds
        self.eval_seconds += time.perf_counter() - began
        if accuracy is not None:
            self.trace.append((step, round(training_time, 1), accuracy))
            if self.reached_at is None and accuracy >= TARGET_ACCURACY:
                self.reached_at = training_time


ROW_FILE = "quality_row.json"


def run(variant: str, steps: int, device: str, eval_every: int, workdir: Path, judge, reference,
        overrides: dict) -> dict:
    """Train `variant` and score it; a row already measured in `workdir` with the same settings is read back
    instead, so a long table stopped part-way (a killed process, a session's end) resumes with `--keep`."""
    config = config_for(variant, dataset=reference.dataset, steps=steps, device=device, checkpoint_every=eval_every,
                        sample_every=steps, log_every=50, **overrides)
    run_dir = workdir / variant
    saved = run_dir / ROW_FILE
    if saved.is_file():
        row = json.loads(saved.read_text())
        if row.get("config") == json.loads(config.to_json()):
            return row
    shutil.rmtree(run_dir, ignore_errors=True)  # a run stopped part-way starts again
    watch = AccuracyWatch(judge, reference, run_dir)
    started = time.perf_counter()
    result = train(config, run_dir, [watch])
    wall = time.perf_counter() - started - watch.eval_seconds
    scores = evaluate_generator(load_generator(run_dir / "generator.safetensors"), judge, reference, n=1000, seed=0)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    images_per_s = sum(r["images_per_s"] for r in rows) / len(rows)
    row = {"variant": variant, "status": result.status, "steps": result.step, "wall_s": round(wall, 1),
           "images_per_s": round(images_per_s), "reached_0.97_at_s": None if watch.reached_at is None
           else round(watch.reached_at, 1), "trace": watch.trace, **scores, "config": json.loads(config.to_json())}
    saved.write_text(json.dumps(row, indent=2))
    return row


def format_table(rows: list[dict]) -> str:
    header = ("| variant | steps | wall s | img/s | Fréchet (real-vs-real) | label / category acc | "
              "intra-class div. | classes covered (min share) | 0.97 acc at s |")
    lines = [header, "|" + "---|" * 9]
    for r in rows:
        accuracy = r.get("label_accuracy", r.get("category_accuracy"))
        coverage = r["class_coverage"]
        lines.append(
            f"| {r['variant']} | {r['steps']} | {r['wall_s']} | {r['images_per_s']} | "
            f"{r['frechet_distance']:.2f} ({r['frechet_real_vs_real']:.2f}) | "
            f"{'—' if accuracy is None else f'{accuracy:.3f}'} | {r['intra_class_diversity']:.2f} | "
            f"{coverage['classes_covered']} ({coverage['min_share']:.3f}) | "
            f"{'—' if r['reached_0.97_at_s'] is None else r['reached_0.97_at_s']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dataset", choices=JUDGED_DATASETS, default=JUDGED_DATASETS[0],
                        help="digit set to train on; measured by its own judge")
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--variants", default=",".join(n for n, s in variants().items()
                                                       if s.trains_on_images and not s.image_to_image))
    parser.add_argument("--set", action="append", default=[], help="config override, e.g. --set seed=1")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--keep", type=Path, help="keep each variant's run folder under this folder (default: a temporary one)")
    args = parser.parse_args()
    overrides = {key: json.loads(value) for key, value in (item.split("=", 1) for item in args.set)}
    judge = load_judge(dataset=args.dataset)
    reference = DigitsReference(judge)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.keep or Path(scratch)
        for variant in args.variants.split(","):
            rows.append(run(variant, args.steps, args.device, args.eval_every, workdir, judge, reference, overrides))
            print(f"{variant}: done in {rows[-1]['wall_s']} s", flush=True)
    print(f"\ntorch {torch.__version__}, dataset {args.dataset}, device {args.device}, {torch.get_num_threads()} threads, "
          f"judge held-out accuracy {judge.held_out_accuracy:.4f}\n")
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
