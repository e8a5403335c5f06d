"""The process that trains one job: `python -m gan_core.training.worker --runs-dir D --job-id ID`.

It runs the generic Trainer with a callback that mirrors progress into the job store, turns every way
a run can end into a job status with a message a user can act on, and at exit starts the next queued
job, so the queue drains even with no app open.

A job of several processes starts this module once as its supervisor (`--processes N`), which runs
`torchrun --standalone` over this same module (`gan_core.training.torchrun_job`). Each rank then trains;
rank 0 alone reports progress and how the run ended; when a rank fails, the supervisor records why.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

import torch

from gan_core.data.catalogue import dataset_entry
from gan_core.errors import GanStudioError
from gan_core.training.distributed import World, inside_torchrun
from gan_core.training.jobs import JobManager, process_start_time
from gan_core.training.run_files import RunFiles
from gan_core.training.trainer import Callback, RunResult, Trainer

OUT_OF_MEMORY = "out of memory: try a smaller batch or image size"


class JobCallback(Callback):
    """Writes step, speed, ETA and metrics into SQLite and polls the cancel flag."""

    def __init__(self, jobs: JobManager, job_id: str) -> None:
        self.jobs = jobs
        self.job_id = job_id
        self.steps_per_image = 1.0
        self.total_steps = 0

    def on_start(self, trainer: Trainer) -> None:
        c = trainer.config
        self.steps_per_image = 1.0 / (c.batch_size * c.n_critic * trainer.world.size)
        self.total_steps = c.steps
        self.jobs.drop_metrics_after(self.job_id, trainer.step)
        self.jobs.update(self.job_id, device=trainer.device_name, step=trainer.step,
                         message=f"resumed from step {trainer.step}" if trainer.step else "training")
        print(f"job {self.job_id}: training on {trainer.device_name} from step {trainer.step}", flush=True)

    def on_log(self, step: int, metrics: dict[str, float]) -> None:
        steps_per_s = metrics.get("images_per_s", 0.0) * self.steps_per_image
        eta = (self.total_steps - step) / steps_per_s if steps_per_s > 0 else None
        self.jobs.record_metrics(self.job_id, step, metrics, eta)

    def should_stop(self) -> bool:
        return self.jobs.cancel_requested(self.job_id)


def describe_failure(error: BaseException) -> str:
    """One message for the jobs table: ours as is, out-of-memory as advice, others as a short traceback tail."""
    if isinstance(error, GanStudioError):
        return str(error)
    # CUDA says "out of memory"; the CPU allocator says "can't allocate memory" in a plain RuntimeError.
    text = str(error).lower()
    if isinstance(error, (MemoryError, torch.OutOfMemoryError)) or "out of memory" in text or "allocate memory" in text:
        return OUT_OF_MEMORY
    tail = traceback.format_exception(error)[-3:]
    return "".join(tail).strip()[-600:]


def loading_message(dataset: str) -> str:
    """What the jobs table says until the first step: loading a large or downloaded set takes a while."""
    try:
        downloads = dataset_entry(dataset).source == "download"
    except GanStudioError:
        return "loading the dataset"
    return f"loading {dataset}" + (" (the first time, it is downloaded: minutes for the larger sets)" if downloads else "")


def run_job(runs_dir: Path, job_id: str) -> str:
    """Train the job to its end and record how it ended; returns the final status."""
    jobs = JobManager(runs_dir)
    if not inside_torchrun():  # a rank's supervisor recorded itself as the job's process
        pid = os.getpid()
        jobs.update(job_id, pid=pid, pid_start=process_start_time(pid))
    result: RunResult | None = None
    world = World()
    try:
        job = jobs.get(job_id)
        world = World.from_environment(job.config.device)
        if world.is_main:
            jobs.update(job_id, message=loading_message(job.config.dataset))
        files = RunFiles(jobs.run_dir(job_id))
        callbacks = [JobCallback(jobs, job_id)] if world.is_main else []
        trainer = Trainer(job.config, files.root, callbacks, world=world)
        result = trainer.run(resume=files.resume.is_file())
        status, message, step = result.status, result.message, result.step
    except BaseException as error:  # every ending becomes a status; the traceback goes to log.txt
        traceback.print_exc()
        status, message = "failed", describe_failure(error)
        step = None
    finally:
        world.close()
    if world.distributed and status == "failed" and step is None:
        # When one rank fails the others fail too, only because it is gone; which came first is the
        # supervisor's to tell (from torchrun's summary), with this line as the failed rank's own words.
        print(f"job {job_id}: rank {world.rank} failed: {message}", flush=True)
        return status
    if world.is_main:
        values = {"status": status, "message": message, "finished": time.time(), "eta_s": None}
        if step is not None:
            values["step"] = step
        jobs.update(job_id, **values)
    if world.is_main:
        print(f"job {job_id}: {status}: {message}", flush=True)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_core.training.worker", description=__doc__)
    parser.add_argument("--runs-dir", type=Path, required=True)
    parser.add_argument("--job-id", required=True)
    parser.add_argument("--max-concurrent", type=int, default=1, help="jobs the queue may run at once")
    parser.add_argument("--processes", type=int, default=1, help="train as this many torchrun processes")
    args = parser.parse_args(argv)
    if args.processes > 1 and not inside_torchrun():
        from gan_core.training.torchrun_job import supervise

        status = supervise(args.runs_dir, args.job_id, args.processes)
    else:
        # Leave the app (and the machine's other work) a share of the CPU, split between the ranks.
        ranks = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        torch.set_num_threads(max(1, ((os.cpu_count() or 2) - 1) // ranks))
        status = run_job(args.runs_dir, args.job_id)
        if inside_torchrun():  # the supervisor starts the next job when every rank has ended
            return 0 if status in ("finished", "cancelled") else 1
    JobManager(args.runs_dir, args.max_concurrent).refresh()
    return 0 if status in ("finished", "cancelled") else 1


if __name__ == "__main__":
    sys.exit(main())
