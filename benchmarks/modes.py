"""Mode coverage of every playground objective on ring-8 and grid-25, several seeds, one step budget, CPU.

Each run trains a `ToyGan` with the playground's defaults for its objective (`default_config`: only
objective, target and seed change) for the page's step budget, learning-rate decay included, then
draws 2,500 samples and applies the VEEGAN / PacGAN rules: a mode is captured with ≥ 20 samples
within 3σ of its centre; high quality = share of samples within 3σ of any mode.

    python -m benchmarks.modes                        # the full table, one one-thread process
    python -m benchmarks.modes --seeds 1 --steps 500  # a quick look (the decay scales to the shorter budget)
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields, replace

import numpy as np
import torch

from gan_core.toy2d import OBJECTIVES, ToyConfig, ToyGan, default_config, mode_metrics

SAMPLES = 2500
THRESHOLD = 20


def run_one(config: ToyConfig, steps: int) -> dict[str, float]:
    """Train one session for `steps` generator steps (its budget) and measure its samples."""
    torch.set_num_threads(1)
    gan = ToyGan(replace(config, eval_every=10**9, budget=steps))
    gan.step(steps)
    fake = gan.fake(SAMPLES).numpy()
    metrics = mode_metrics(fake, gan.target.centres, gan.target.sigma, THRESHOLD)
    return {
        "captured": metrics.captured,
        "modes": metrics.modes,
        "hq": metrics.high_quality,
        "kl": metrics.kl_to_uniform,
    }


def _parse_overrides(pairs: list[str]) -> dict[str, object]:
    types = {field.name: field.type for field in fields(ToyConfig)}
    overrides: dict[str, object] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in types:
            raise SystemExit(f"unknown ToyConfig field {name!r}")
        kind = {"int": int, "float": float}.get(str(types[name]), str)
        overrides[name] = kind(value)
    return overrides


def _settings(config: ToyConfig) -> str:
    names = ("optimizer", "lr_g", "lr_d", "d_steps", "depth", "width", "noise_dim", "batch_size", "lr_decay_start")
    extra = {"wgan_clip": ("clip",), "wgan_gp": ("gp_weight",)}.get(config.objective, ())
    return ", ".join(f"{name} {getattr(config, name)}" for name in (*names, *extra))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=ToyConfig.budget, help="generator steps per run (the budget)")
    parser.add_argument("--objectives", nargs="+", default=list(OBJECTIVES))
    parser.add_argument("--targets", nargs="+", default=["ring8", "grid25"])
    parser.add_argument("--jobs", type=int, default=1, help="parallel processes (one thread each)")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="override the defaults")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    overrides = _parse_overrides(args.set)
    cells = [(objective, target) for objective in args.objectives for target in args.targets]
    configs = [
        default_config(objective, **{**overrides, "target": target, "seed": seed})
        for objective, target in cells
        for seed in range(args.seeds)
    ]
    started = time.perf_counter()
    if args.jobs == 1:
        results = []
        for config in configs:
            results.append(run_one(config, args.steps))
            print(
                f"  {config.objective} {config.target} seed {config.seed}: {results[-1]['captured']} modes, "
                f"{results[-1]['hq']:.1%} high quality, {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    else:
        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(run_one, configs, [args.steps] * len(configs)))
    elapsed = time.perf_counter() - started

    print(f"command: python -m benchmarks.modes {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    print(f"{len(configs)} runs, {args.steps} G steps each, {elapsed:.0f} s wall, {args.jobs} process(es), CPU")
    for objective in args.objectives:
        config = default_config(objective, **overrides)
        print(f"{OBJECTIVES[objective][1]}: {_settings(config)}")
    print()
    print("| objective | target | modes captured | high-quality share | KL(modes ‖ uniform) |")
    print("|---|---|---|---|---|")
    for index, (objective, target) in enumerate(cells):
        rows = results[index * args.seeds : (index + 1) * args.seeds]
        captured = np.array([row["captured"] for row in rows], dtype=float)
        quality = np.array([row["hq"] for row in rows])
        kl = np.array([row["kl"] for row in rows])
        finite = kl[np.isfinite(kl)]
        kl_text = f"{finite.mean():.3f} ± {finite.std():.3f}" if len(finite) else "—"
        if len(finite) < len(kl):
            kl_text += f" ({len(kl) - len(finite)} run(s) with no high-quality sample: ∞)"
        print(
            f"| {OBJECTIVES[objective][1]} | {target} "
            f"| {captured.mean():.1f} ± {captured.std():.1f} / {rows[0]['modes']} "
            f"| {quality.mean():.1%} ± {quality.std():.1%} | {kl_text} |"
        )


if __name__ == "__main__":
    main()
