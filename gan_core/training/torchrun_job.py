"""A job of several processes: its supervisor runs `torchrun --standalone` over the worker and records how it ended.

Why a supervisor and not torchrun itself as the job's process: when a rank dies without a word (killed, out of
host memory), torchrun stops the other ranks and exits, and no rank is left to tell the job store. The
supervisor outlives them all: it is the pid the job manager watches, torchrun's output goes to the job's log
like any worker's, and when torchrun ends with the job still marked running it records the failure, naming
the rank that failed first as torchrun reported it. Checkpoints are written atomically by rank 0, so the last
one is intact whichever rank died, and resume continues from it.

Cancelling is the job store's flag, as for one process: rank 0 reads it at a log point, every rank agrees,
checkpoints and stops. SIGTERM or SIGINT to the supervisor is passed on to torchrun, which stops every rank.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from gan_core.training.jobs import LOG_FILE, JobManager, process_start_time


def torchrun_worker_command(runs_dir: Path, job_id: str, processes: int) -> list[str]:
    """torchrun on one node (a local rendezvous on a free port), running the job worker as every rank."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes),
            "-m", "gan_core.training.worker", "--runs-dir", str(runs_dir), "--job-id", job_id]


def failed_ranks(log_text: str) -> tuple[dict[int, int], int | None]:
    """From torchrun's last failure summary: each failed rank's exit code, and the rank it calls the root cause."""
    summary = log_text.rsplit(" FAILED\n", 1)
    if len(summary) < 2:
        return {}, None
    blocks = re.findall(r"rank\s*:\s*(\d+).*?exitcode\s*:\s*(-?\d+)", summary[1], re.DOTALL)
    codes = {int(rank): int(code) for rank, code in blocks}
    root = re.search(r"Root Cause.*?rank\s*:\s*(\d+)", summary[1], re.DOTALL)
    return codes, int(root.group(1)) if root else None


def describe_rank_failure(log_text: str) -> str | None:
    """Which rank failed first and how, in words. When one rank fails the others fail after it, only because
    their peer is gone, so the cause is: a rank killed by a signal (other than torchrun's own SIGTERM to the
    survivors); else the first rank to print its error (`gan_core.training.worker.run_job` prints one line per
    Python error, and the ranks share the log in time order); else the root cause torchrun names."""
    codes, root = failed_ranks(log_text)
    if not codes:
        return None
    words = {}
    for rank, said in re.findall(r"rank (\d+) failed: (.*)", log_text):
        words.setdefault(int(rank), said.strip())
    killed = [rank for rank, code in codes.items() if code < 0 and -code != signal.SIGTERM]
    printed = [rank for rank in words if rank in codes]
    rank = killed[0] if killed else printed[0] if printed else root if root in codes else min(codes)
    code = codes[rank]
    try:
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
    except ValueError:
        how = f"was killed by signal {-code}"
    return f"rank {rank} {how}" + (f": {words[rank]}" if rank in words else "")


def supervise(runs_dir: Path, job_id: str, processes: int) -> str:
    """Run the job as `processes` torchrun ranks and return its final status."""
    jobs = JobManager(runs_dir)
    pid = os.getpid()
    jobs.update(job_id, pid=pid, pid_start=process_start_time(pid))
    print(f"job {job_id}: starting {processes} processes with torchrun", flush=True)
    ranks = subprocess.Popen(torchrun_worker_command(runs_dir, job_id, processes), stdin=subprocess.DEVNULL)

    def pass_on(signum: int, frame: object) -> None:
        ranks.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, pass_on)
    code = ranks.wait()
    job = jobs.get(job_id)
    if job.status == "running":  # no rank recorded an ending: one was killed, and torchrun stopped the rest
        log_text = _log_tail(jobs.run_dir(job_id) / LOG_FILE)
        cause = describe_rank_failure(log_text) or f"torchrun exited with status {code}"
        message = (f"a training process failed ({cause}), so every rank was stopped; the log shows its error, and "
                   f"resume continues from the last checkpoint (step {_checkpoint_step(jobs, job_id)})")
        jobs.fail_if_running(job_id, message)
        print(f"job {job_id}: failed: {message}", flush=True)
    return jobs.get(job_id).status


def _log_tail(path: Path, max_bytes: int = 64 * 1024) -> str:
    sys.stdout.flush()
    try:
        with open(path, "rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - max_bytes))
            return log.read().decode(errors="replace")
    except OSError:
        return ""


def _checkpoint_step(jobs: JobManager, job_id: str) -> str:
    from gan_core.checkpoints import read_metadata
    from gan_core.training.run_files import RunFiles

    generator = RunFiles(jobs.run_dir(job_id)).generator
    try:
        return str(read_metadata(generator).get("step", "?")) if generator.is_file() else "none yet"
    except Exception:  # an unreadable file is reported as such; the message is still written
        return "unreadable"

