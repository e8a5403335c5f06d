"""Does each playground lesson show what its sentence says? Train every lesson for several seeds and measure.

Each lesson (`gan_core.toy2d.lessons`) runs for its own step budget with its own settings, exactly as the page
starts it, and is measured like `benchmarks/modes.py` (2,500 samples; a mode is captured with ≥ 20 samples
within 3σ; high quality: within 3σ of any mode).

    python -m benchmarks.playground_lessons --jobs 2            # every lesson, 3 seeds
    python -m benchmarks.playground_lessons --lessons 1 3 4     # some of them, by number
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.modes import run_one
from gan_core.toy2d.lessons import LESSONS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--lessons", type=int, nargs="+", default=list(range(len(LESSONS))),
                        help=f"lesson numbers, 0-{len(LESSONS) - 1}")
    parser.add_argument("--jobs", type=int, default=1, help="parallel processes (one thread each)")
    args = parser.parse_args(argv)
    runs = [(index, seed) for index in args.lessons for seed in range(args.seeds)]
    configs = [LESSONS[index].config() for index, _ in runs]
    from dataclasses import replace

    configs = [replace(config, seed=seed) for config, (_, seed) in zip(configs, runs)]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(run_one, configs, [config.budget for config in configs]))
    print(f"{len(runs)} runs in {time.perf_counter() - started:.0f} s wall", file=sys.stderr)
    print("| # | lesson | target, objective, steps | modes captured (per seed) | mean | high-quality share (mean) |")
    print("|---|---|---|---|---|---|")
    for index in args.lessons:
        rows = [result for (lesson, _), result in zip(runs, results) if lesson == index]
        config = LESSONS[index].config()
        captured = [int(row["captured"]) for row in rows]
        print(f"| {index} | {LESSONS[index].title} | {config.target}, {config.objective}, {config.budget:,} | "
              f"{' / '.join(map(str, captured))} of {int(rows[0]['modes'])} | {np.mean(captured):.1f} | "
              f"{np.mean([row['hq'] for row in rows]):.1%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
