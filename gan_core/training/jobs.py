"""Background training jobs: one process per job, state in SQLite so any process can read it.

The app (or a CLI, or a test) submits a config; `refresh()` starts queued jobs as worker processes
(`python -m gan_core.training.worker`) up to `max_concurrent`, and marks jobs whose process is gone as
`interrupted`. Workers write their progress and metrics into `runs_dir/jobs.sqlite3` (WAL mode, so a
reader never blocks the writer), and each job's files live in `runs_dir/<job id>/`. Killing the app or
a worker loses nothing: an interrupted job resumes from its last checkpoint.

A job of several `processes` is one torchrun group on this machine (`gan_core.training.torchrun_job`): its
supervisor is the job's process, so the queue, cancel, resume and the log work as for one process.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from gan_core.config import TrainConfig, saved_config_from_dict
from gan_core.errors import GanStudioError
from gan_core.training.run_files import RunFiles

DB_FILE = "jobs.sqlite3"
LOG_FILE = "log.txt"
STATUSES = ("queued", "running", "finished", "failed", "diverged", "cancelled", "interrupted")
ACTIVE = ("queued", "running")
RESUMABLE = ("interrupted", "cancelled", "failed", "diverged")
# A claimed job whose worker never reported its pid within this many seconds is treated as lost.
START_GRACE_S = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    session TEXT,
    variant TEXT NOT NULL,
    dataset TEXT NOT NULL,
    config_json TEXT NOT NULL,
    status TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    total_steps INTEGER NOT NULL,
    images_per_s REAL,
    eta_s REAL,
    elapsed_s REAL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    message TEXT NOT NULL DEFAULT '',
    pid INTEGER,
    pid_start TEXT,
    device TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    processes INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS metrics (
    job_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    name TEXT NOT NULL,
    value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_by_job ON metrics (job_id, step);
"""
ADDED_COLUMNS = {"processes": "INTEGER NOT NULL DEFAULT 1"}
"""Columns added after job stores were first written; an older store gets them with their default."""
MAX_PROCESSES = 64
"""Processes one job may start on this machine (one per GPU; on the CPU, see BENCHMARKS.md first)."""


@dataclass
class Job:
    """One row of the jobs table, as the app shows it."""

    id: str
    name: str
    session: str | None
    variant: str
    dataset: str
    config_json: str
    status: str
    step: int
    total_steps: int
    images_per_s: float | None
    eta_s: float | None
    elapsed_s: float | None
    created: float
    started: float | None
    finished: float | None
    message: str
    pid: int | None
    pid_start: str | None
    device: str | None
    cancel_requested: int
    processes: int = 1  # torchrun ranks on this machine; batch_size is per process

    @cached_property
    def config(self) -> TrainConfig:
        """The job's config, parsed once per `Job` read from the store (it was validated when it was built)."""
        return saved_config_from_dict(json.loads(self.config_json))

    @property
    def progress(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of `pid` (Linux), so a reused pid is not mistaken for our worker."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z":  # a zombie has finished; it only waits to be reaped
        return None
    return fields[19]


def _process_alive(pid: int, pid_start: str | None) -> bool:
    try:  # reap our own finished children so they do not linger as zombies
        os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        pass
    if Path("/proc").is_dir() and Path("/proc/self/stat").is_file():
        start = process_start_time(pid)
        return start is not None and (pid_start is None or start == pid_start)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobManager:
    """Queue, start, watch, cancel, resume and delete training jobs under `runs_dir`."""

    def __init__(self, runs_dir: Path | str, max_concurrent: int = 1, jobs_per_session: int | None = None) -> None:
        self.runs_dir = Path(runs_dir)
        self.max_concurrent = max_concurrent
        self.jobs_per_session = jobs_per_session
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.runs_dir / DB_FILE
        with self._connect() as db:
            db.executescript(_SCHEMA)
            present = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
            for column, declaration in ADDED_COLUMNS.items():
                if column not in present:
                    db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {declaration}")

    # --- storage ------------------------------------------------------------------------
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection per call: safe across threads and processes; commits on success."""
        db = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def update(self, job_id: str, **values: Any) -> None:
        """Set columns of one job (used by the worker)."""
        columns = ", ".join(f"{name} = ?" for name in values)
        with self._connect() as db:
            db.execute(f"UPDATE jobs SET {columns} WHERE id = ?", (*values.values(), job_id))

    def run_dir(self, job_id: str) -> Path:
        return self.runs_dir / job_id

    # --- queries ------------------------------------------------------------------------
    def get(self, job_id: str) -> Job:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise GanStudioError(f"no job {job_id!r} in {self.runs_dir}")
        return Job(**dict(row))

    def list_jobs(self, session: str | None = None) -> list[Job]:
        """Newest first; only one session's jobs when `session` is given."""
        query, args = "SELECT * FROM jobs", ()
        if session is not None:
            query, args = query + " WHERE session = ?", (session,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY created DESC, id DESC", args).fetchall()
        return [Job(**dict(row)) for row in rows]

    def unused_name(self, base: str) -> str:
        """`base`, or `base (2)`, `(3)`, ... whichever no job has yet: a list of five 'dcgan on mnist_5k' says nothing."""
        with self._connect() as db:
            taken = {row[0] for row in db.execute("SELECT name FROM jobs WHERE name = ? OR name LIKE ?",
                                                  (base, base + " (%"))}
        candidate, number = base, 1
        while candidate in taken:
            number += 1
            candidate = f"{base} ({number})"
        return candidate

    def count_running(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'running'").fetchone()[0]

    def metrics(self, job_id: str, since_step: int = 0) -> list[dict[str, float]]:
        """Logged rows after `since_step`, oldest first: `{"step": s, "D_real": ..., ...}`."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT step, name, value FROM metrics WHERE job_id = ? AND step > ? ORDER BY step, rowid",
                (job_id, since_step),
            ).fetchall()
        by_step: dict[int, dict[str, float]] = {}
        for step, name, value in rows:
            by_step.setdefault(step, {"step": step})[name] = value
        return list(by_step.values())

    def run_files(self, job: Job) -> RunFiles:
        """The job's run folder, its samples of the variant's kind (from the row the caller already read)."""
        from gan_core.registry import get_variant

        return RunFiles(self.run_dir(job.id), get_variant(job.variant).sample_kind.suffix)

    def sample_paths(self, job_id: str) -> list[Path]:
        """The job's previews, oldest first."""
        return self.run_files(self.get(job_id)).sample_paths()

    def generator_path(self, job_id: str) -> Path | None:
        path = RunFiles(self.run_dir(job_id)).generator
        return path if path.is_file() else None

    def log_tail(self, job_id: str, lines: int = 40, max_bytes: int = 64 * 1024) -> str:
        """The last `lines` lines of the job's log, read from its last `max_bytes` only (the page reads it often).

        A progress bar redraws its line with carriage returns; only its latest state is kept.
        """
        path = self.run_dir(job_id) / LOG_FILE
        try:
            with open(path, "rb") as log:
                start = max(0, log.seek(0, os.SEEK_END) - max_bytes)
                log.seek(start)
                text = log.read().decode(errors="replace")
        except OSError:
            return ""
        text_lines = text.split("\n")[1 if start else 0:]  # a cut-off first line is left out
        readable = [line.rstrip("\r").rsplit("\r", 1)[-1] for line in text_lines]
        return "\n".join([line for line in readable if line.strip()][-lines:])

    # --- commands -----------------------------------------------------------------------
    def submit(self, config: TrainConfig, name: str | None = None, session: str | None = None, processes: int = 1) -> str:
        """Queue a job (a `TrainConfig` is valid by construction); returns its id. Call `refresh()` to start it.

        `processes` > 1 trains it as that many torchrun ranks on this machine, each on batch_size images per step.
        """
        from gan_core.registry import get_variant
        from gan_core.training.distributed import check_can_distribute, check_sync_batch_norm

        if isinstance(processes, bool) or not isinstance(processes, int) or not 1 <= processes <= MAX_PROCESSES:
            raise GanStudioError(f"processes must be an integer from 1 to {MAX_PROCESSES}; got {processes!r}")
        check_can_distribute(get_variant(config.variant), processes)
        check_sync_batch_norm(config, processes)
        job_id = time.strftime("%Y%m%d-%H%M%S") + f"-{config.variant}-{secrets.token_hex(3)}"
        with self._transaction() as db:  # count and insert together, so two tabs cannot both slip under the limit
            if self.jobs_per_session is not None and session is not None:
                active = db.execute(f"SELECT COUNT(*) FROM jobs WHERE session = ? AND status IN {ACTIVE}",
                                    (session,)).fetchone()[0]
                if active >= self.jobs_per_session:
                    raise GanStudioError(f"this session already has {active} queued or running job(s), the most this "
                                         "server allows; wait for one to finish or cancel one")
            db.execute(
                "INSERT INTO jobs (id, name, session, variant, dataset, config_json, status, total_steps, created,"
                " message, processes) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, 'waiting for a free slot', ?)",
                (job_id, name or f"{config.variant} on {config.dataset}", session, config.variant, config.dataset,
                 config.to_json(), config.steps, time.time(), processes),
            )
        return job_id

    def refresh(self) -> list[str]:
        """Mark dead workers' jobs interrupted, then start queued jobs; returns the ids started."""
        now = time.time()
        with self._transaction() as db:
            for row in db.execute("SELECT id, pid, pid_start, started FROM jobs WHERE status = 'running'").fetchall():
                if row["pid"] is None:
                    lost = now - (row["started"] or now) > START_GRACE_S
                else:
                    lost = not _process_alive(row["pid"], row["pid_start"])
                if lost:
                    db.execute(
                        "UPDATE jobs SET status = 'interrupted', finished = ?, eta_s = NULL, message = ? WHERE id = ?",
                        (now, "the training process stopped unexpectedly; resume continues from the last checkpoint",
                         row["id"]),
                    )
            running = db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'running'").fetchone()[0]
            free = max(0, self.max_concurrent - running)
            claimed = [row["id"] for row in db.execute(
                "SELECT id FROM jobs WHERE status = 'queued' ORDER BY created, id LIMIT ?", (free,)).fetchall()]
            for job_id in claimed:
                db.execute(
                    "UPDATE jobs SET status = 'running', started = ?, finished = NULL, pid = NULL, pid_start = NULL,"
                    " message = 'starting' WHERE id = ?", (now, job_id),
                )
        for job_id in claimed:
            self._spawn(job_id)
        return claimed

    def _spawn(self, job_id: str) -> None:
        run_dir = self.run_dir(job_id)
        run_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "gan_core.training.worker", "--runs-dir", str(self.runs_dir),
                   "--job-id", job_id, "--max-concurrent", str(self.max_concurrent),
                   "--processes", str(self.get(job_id).processes)]
        python_path = [_package_root(), os.environ.get("PYTHONPATH")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, python_path))}
        with open(run_dir / LOG_FILE, "a") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True, env=env)
        # Reap the worker when it exits so a long-lived app does not collect zombies.
        threading.Thread(target=process.wait, name=f"reap-{job_id}", daemon=True).start()
        with self._connect() as db:  # the worker also records itself; whichever comes first is the same pid
            db.execute("UPDATE jobs SET pid = ?, pid_start = ? WHERE id = ? AND status = 'running' AND pid IS NULL",
                       (process.pid, process_start_time(process.pid), job_id))

    def cancel(self, job_id: str) -> None:
        """A queued job is cancelled at once; a running one checkpoints and stops at its next log point."""
        with self._transaction() as db:
            row = db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise GanStudioError(f"no job {job_id!r}")
            if row["status"] == "queued":
                db.execute("UPDATE jobs SET status = 'cancelled', finished = ?, message = 'cancelled before it started'"
                           " WHERE id = ?", (time.time(), job_id))
            elif row["status"] == "running":
                db.execute("UPDATE jobs SET cancel_requested = 1, message = 'cancelling at the next log point'"
                           " WHERE id = ?", (job_id,))
            else:
                raise GanStudioError(f"job {job_id} is {row['status']}; only queued or running jobs can be cancelled")

    def can_resume(self, job: Job) -> bool:
        return job.status in RESUMABLE and RunFiles(self.run_dir(job.id)).resume.is_file()

    def resume(self, job_id: str) -> None:
        """Queue a stopped job again; its worker continues from the last checkpoint."""
        job = self.get(job_id)
        if not self.can_resume(job):
            reason = "it has no checkpoint yet; submit it again" if job.status in RESUMABLE else f"it is {job.status}"
            raise GanStudioError(f"job {job_id} cannot be resumed: {reason}")
        with self._connect() as db:
            db.execute(
                "UPDATE jobs SET status = 'queued', cancel_requested = 0, finished = NULL, pid = NULL,"
                " pid_start = NULL, eta_s = NULL, message = 'queued to resume from its last checkpoint'"
                " WHERE id = ? AND status = ?",
                (job_id, job.status),
            )

    def delete(self, job_id: str) -> None:
        """Forget a job and remove its folder; a running job must be cancelled first."""
        job = self.get(job_id)
        if job.status == "running":
            raise GanStudioError(f"job {job_id} is running; cancel it before deleting it")
        with self._connect() as db:
            db.execute("DELETE FROM metrics WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        shutil.rmtree(self.run_dir(job_id), ignore_errors=True)

    # --- used by the worker -------------------------------------------------------------
    def record_metrics(self, job_id: str, step: int, metrics: dict[str, float], eta_s: float | None) -> None:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO metrics (job_id, step, name, value) VALUES (?, ?, ?, ?)",
                           [(job_id, step, name, float(value)) for name, value in metrics.items()])
            db.execute("UPDATE jobs SET step = ?, images_per_s = ?, elapsed_s = ?, eta_s = ?, message = ? WHERE id = ?",
                       (step, metrics.get("images_per_s"), metrics.get("elapsed_s"), eta_s, f"step {step}", job_id))
            db.execute("COMMIT")

    def drop_metrics_after(self, job_id: str, step: int) -> None:
        """On resume, rows after the checkpoint are logged again; drop the old ones."""
        with self._connect() as db:
            db.execute("DELETE FROM metrics WHERE job_id = ? AND step > ?", (job_id, step))

    def fail_if_running(self, job_id: str, message: str) -> bool:
        """Record a failure unless the job already ended (a torchrun job's supervisor, after its ranks are gone:
        rank 0 may have recorded the ending itself)."""
        with self._connect() as db:
            changed = db.execute("UPDATE jobs SET status = 'failed', message = ?, finished = ?, eta_s = NULL"
                                 " WHERE id = ? AND status = 'running'", (message, time.time(), job_id)).rowcount
        return changed == 1

    def cancel_requested(self, job_id: str) -> bool:
        with self._connect() as db:
            row = db.execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return bool(row and row[0])


def _package_root() -> str:
    """The folder holding `gan_core`, so workers import the same code as the app."""
    return str(Path(__file__).resolve().parents[2])
