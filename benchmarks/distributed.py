"""Distributed training throughput: images per second with 1, 2, ... processes, and the communication share.

Each measurement is a real run of GAN Studio's Trainer under torchrun (`--standalone`, one node): DCGAN on
mnist_5k at 32×32, `--batch` images per process per step (the global batch grows with the processes, as
`gan_core.training.distributed` documents). The clock runs from the end of the warm-up steps to the last
step, at log points, so dataset loading, model building and process start-up are left out. The
communication share is the time rank 0 spends averaging gradients (all-reduce, with a device sync on CUDA
so it is not hidden in asynchronous launches) over the timed seconds.

On the CPU the cores are shared, so the comparison holds the machine's threads fixed: one process with all
`--threads`, against N processes with threads / N each, plus one process with one thread (on a loaded
machine, a process whose OpenMP threads wait for each other at every operation can lose more to the other
jobs than it gains from the second core). Expect no speed-up from processes on a CPU: the same cores do the
same arithmetic, plus the all-reduce. Wall-clock images/s on a machine shared with other work also depend on
the share of the cores the scheduler gives the benchmark (more processes, more share), so images per
CPU-second (summed over every rank's threads, timed part only) are printed too. The communication share
includes the wait for the slower rank to reach the same update. On GPUs each process has its own GPU; the
goal is a scaling efficiency of at least 0.9 (images/s with N GPUs ≥ 0.9 × N × images/s with one) at batch 256 per GPU.

    python -m benchmarks.distributed                      # CPU: 1 and 2 processes, 3 alternating rounds
    python -m benchmarks.distributed --device cuda        # 1..all GPUs, batch 256 per GPU
    python -m benchmarks.distributed --processes 1 2 4 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def measure_rank(args: argparse.Namespace) -> None:
    """Inside torchrun (or alone for one process): train, time the steps after the warm-up, print rank 0's row."""
    import torch

    from gan_core.registry import config_for
    from gan_core.training.distributed import World
    from gan_core.training.trainer import Callback, Trainer

    torch.set_num_threads(args.threads_per_process)
    steps = args.warmup + args.steps
    config = config_for("dcgan", dataset="mnist_5k", image_size=32, batch_size=args.batch, steps=steps,
                        log_every=args.warmup, sample_every=10 * steps, checkpoint_every=10 * steps,
                        device=args.device, precision=args.precision, seed=0)
    world = World.from_environment(config.device)
    world.timed = True
    marks: dict[int, tuple[float, float, float]] = {}

    class Clock(Callback):
        def on_log(self, step: int, metrics: dict[str, float]) -> None:
            if world.backend == "nccl" or config.device == "cuda":
                torch.cuda.synchronize()
            marks[step] = (time.perf_counter(), world.communication_s, time.process_time())

    try:
        with tempfile.TemporaryDirectory() as run_dir:
            trainer = Trainer(config, Path(run_dir) / "run", [Clock()], world=world)
            result = trainer.run()
            if result.status != "finished":
                raise SystemExit(f"rank {world.rank}: {result.message}")
            (start, comm_start, cpu_start), (end, comm_end, cpu_end) = marks[args.warmup], marks[steps]
            print(f"CPU {cpu_end - cpu_start}", flush=True)  # this rank's CPU seconds (all its threads)
            if world.is_main:
                seconds = end - start
                images = args.steps * args.batch * world.size
                print("ROW " + json.dumps({"processes": world.size, "images_per_s": images / seconds,
                                           "seconds": seconds, "communication_share": (comm_end - comm_start) / seconds,
                                           "device": trainer.device_name}), flush=True)
    finally:
        world.close()


def launch(processes: int, threads: int, args: argparse.Namespace) -> dict:
    """One measurement with `processes` ranks of `threads` threads each, in fresh processes."""
    inner = ["-m", "benchmarks.distributed", "--rank", "--warmup", str(args.warmup), "--steps", str(args.steps),
             "--batch", str(args.batch), "--device", args.device, "--precision", args.precision,
             "--threads-per-process", str(threads)]
    command = ([sys.executable, *inner] if processes == 1 else
               [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes), *inner])
    env = {**os.environ, "OMP_NUM_THREADS": str(threads),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    rows = [line[4:] for line in done.stdout.splitlines() if line.startswith("ROW ")]
    cpu_seconds = sum(float(line[4:]) for line in done.stdout.splitlines() if line.startswith("CPU "))
    if done.returncode != 0 or not rows:
        raise SystemExit(f"{processes} processes failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    row = json.loads(rows[-1])
    return {**row, "threads_per_process": threads,
            "images_per_cpu_s": row["images_per_s"] * row["seconds"] / max(cpu_seconds, 1e-9)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--processes", type=int, nargs="+", help="world sizes (default: 1 2 on the CPU, 1..all GPUs)")
    parser.add_argument("--batch", type=int, help="images per process per step (default 64 on the CPU, 256 on GPUs)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--steps", type=int, default=60, help="timed steps (a multiple of --warmup)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median is reported")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads shared by the processes")
    parser.add_argument("--rank", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads-per-process", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.batch is None:
        args.batch = 256 if args.device == "cuda" else 64
    if args.steps % args.warmup:
        parser.error("--steps must be a multiple of --warmup (the clock reads at log points)")
    if args.rank:
        measure_rank(args)
        return
    if args.processes is None:
        if args.device == "cuda":
            import torch

            args.processes = list(range(1, torch.cuda.device_count() + 1))
        else:
            args.processes = [1, 2]
    layouts = [(n, max(1, args.threads // n) if args.device == "cpu" else args.threads) for n in args.processes]
    if args.device == "cpu" and (1, 1) not in layouts:
        layouts.insert(1, (1, 1))
    results: dict[tuple[int, int], list[dict]] = {layout: [] for layout in layouts}
    started = time.perf_counter()
    for round_index in range(args.rounds):
        for n, threads in layouts:
            row = launch(n, threads, args)
            results[n, threads].append(row)
            print(f"round {round_index + 1}: {n} process(es) × {threads} thread(s): {row['images_per_s']:.0f} img/s, "
                  f"{row['images_per_cpu_s']:.0f} img per CPU-second, communication {100 * row['communication_share']:.1f}%",
                  flush=True)
    device = results[layouts[0]][0]["device"]
    print(f"\n{device}; dcgan 32×32 on mnist_5k, batch {args.batch} per process, precision {args.precision}, "
          f"{args.warmup} warm-up + {args.steps} timed steps, {args.rounds} rounds, {time.perf_counter() - started:.0f} s\n")
    single = statistics.median(row["images_per_s"] for row in results[layouts[0]])
    print(f"| processes | threads each | global batch | img/s (median, range) | speed-up vs {layouts[0][0]} × "
          f"{layouts[0][1]} | scaling efficiency | communication share (median) | images per CPU-second (median) |")
    print("|---|---|---|---|---|---|---|---|")
    for (n, _), rows in results.items():
        speeds = [row["images_per_s"] for row in rows]
        median = statistics.median(speeds)
        share = statistics.median(row["communication_share"] for row in rows)
        per_cpu = statistics.median(row["images_per_cpu_s"] for row in rows)
        speed_up = median / single
        print(f"| {n} | {rows[0]['threads_per_process']} | {n * args.batch} | {median:.0f} ({min(speeds):.0f}–{max(speeds):.0f})"
              f" | {speed_up:.2f}× | {speed_up / n * layouts[0][0]:.2f} | {100 * share:.1f}% | {per_cpu:.0f} |")


if __name__ == "__main__":
    main()
