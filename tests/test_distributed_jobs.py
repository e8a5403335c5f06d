"""Jobs of two processes (#24): the job manager starts torchrun, a killed rank fails the job, cancel ends every rank.

Both jobs run at once (two slots), so the module costs one torchrun start-up of wall time on the CI machine.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from job_waiting import wait_for_job

from gan_core.checkpoints import load_generator, load_resume_state, read_metadata
from gan_core.errors import ConfigError, GanStudioError
from gan_core.registry import config_for
from gan_core.training.jobs import JobManager
from gan_core.training.torchrun_job import describe_rank_failure

TIMEOUT_S = 300.0
LONG = 100_000  # steps: these jobs end only by a kill or a cancel


def tiny(**overrides):
    values = {"width": 8, "image_size": 16, "batch_size": 4, "noise_dim": 8, "steps": LONG, "log_every": 1,
              "sample_every": 1000, "checkpoint_every": 3, "device": "cpu", "dataset": "digits", **overrides}
    return config_for("dcgan", **values)


def wait_for(jobs: JobManager, job_id: str, condition, what: str):
    return wait_for_job(jobs, job_id, condition, what, TIMEOUT_S)


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (Linux /proc): torchrun and its ranks below a job's supervisor."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def rank_of(pid: int) -> int | None:
    try:
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    ranks = [item.split(b"=", 1)[1] for item in environment if item.startswith(b"RANK=")]
    return int(ranks[0]) if ranks else None


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


@pytest.fixture(scope="module")
def two_jobs(tmp_path_factory):
    """A job to kill a rank of and a job to cancel, both of two processes, started together."""
    jobs = JobManager(tmp_path_factory.mktemp("jobs"), max_concurrent=2)
    to_kill = jobs.submit(tiny(), name="kill a rank", processes=2)
    to_cancel = jobs.submit(tiny(seed=1), name="cancel", processes=2)
    assert sorted(jobs.refresh()) == sorted([to_kill, to_cancel])
    return jobs, to_kill, to_cancel


def _ranks_of_job(jobs: JobManager, job_id: str) -> dict[int, int]:
    job = wait_for(jobs, job_id, lambda j: j.step >= 4 and (jobs.run_dir(j.id) / "resume.pt").is_file(),
                   "a checkpoint at step 3")
    ranks = {rank_of(pid): pid for pid in descendants(job.pid)}
    assert {0, 1} <= set(ranks), f"two ranks under the job's process: {ranks}"
    return {rank: ranks[rank] for rank in (0, 1)}


def test_a_killed_rank_fails_the_job_with_the_error_logged_and_the_checkpoint_intact(two_jobs):
    jobs, job_id, _ = two_jobs
    ranks = _ranks_of_job(jobs, job_id)
    supervisor = jobs.get(job_id).pid
    every_process = descendants(supervisor) | {supervisor}
    os.kill(ranks[1], signal.SIGKILL)
    job = wait_for(jobs, job_id, lambda j: j.status not in ("queued", "running"), "the job to end")
    assert job.status == "failed", job.message
    assert job.message.startswith("a training process failed (rank 1 was killed by SIGKILL)"), job.message
    assert "resume continues from the last checkpoint (step " in job.message
    log = jobs.log_tail(job_id, lines=400)
    assert "SIGKILL" in log or "exitcode: -9" in log.replace(" ", "") or "-9" in log, log
    files = jobs.run_dir(job_id)
    state = load_resume_state(files / "resume.pt")  # written atomically by rank 0: intact
    assert state["world_size"] == 2 and state["step"] % 3 == 0 and state["step"] >= 3
    assert int(read_metadata(files / "generator.safetensors")["step"]) == state["step"]
    load_generator(files / "generator.safetensors")
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in every_process) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in every_process if alive(pid)], "every rank, torchrun and the supervisor ended"
    assert jobs.can_resume(job)


def test_cancel_ends_every_rank_after_a_checkpoint(two_jobs):
    jobs, _, job_id = two_jobs
    _ranks_of_job(jobs, job_id)
    supervisor = jobs.get(job_id).pid
    every_process = descendants(supervisor) | {supervisor}
    jobs.cancel(job_id)
    job = wait_for(jobs, job_id, lambda j: j.status not in ("queued", "running"), "the job to stop")
    assert job.status == "cancelled", job.message
    state = load_resume_state(jobs.run_dir(job_id) / "resume.pt")
    assert state["step"] == job.step and state["world_size"] == 2
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in every_process) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in every_process if alive(pid)], "every rank, torchrun and the supervisor ended"


def test_submit_refuses_a_bad_process_count_and_a_single_process_variant(tmp_path, monkeypatch):
    import dataclasses

    import gan_core.registry as registry

    jobs = JobManager(tmp_path)
    for bad in (0, 65, 1.5, True):
        with pytest.raises(GanStudioError, match="processes must be an integer from 1 to 64"):
            jobs.submit(tiny(), processes=bad)
    single = dataclasses.replace(registry.get_variant("dcgan"), distributed=False, single_process_reason="its reason")
    monkeypatch.setattr(registry, "get_variant", lambda name: single)
    with pytest.raises(ConfigError, match="dcgan trains as one process only: its reason"):
        jobs.submit(tiny(), processes=2)
    monkeypatch.undo()
    with pytest.raises(ConfigError, match="sync_batch_norm needs CUDA GPUs"):
        jobs.submit(tiny(sync_batch_norm=True), processes=2)
    assert jobs.list_jobs() == []
    assert jobs.get(jobs.submit(tiny())).processes == 1


def test_an_older_job_store_gains_the_processes_column(tmp_path):
    import sqlite3

    with sqlite3.connect(tmp_path / "jobs.sqlite3") as db:
        db.execute("CREATE TABLE jobs (id TEXT PRIMARY KEY, name TEXT NOT NULL, session TEXT, variant TEXT NOT NULL,"
                    " dataset TEXT NOT NULL, config_json TEXT NOT NULL, status TEXT NOT NULL, step INTEGER NOT NULL"
                    " DEFAULT 0, total_steps INTEGER NOT NULL, images_per_s REAL, eta_s REAL, elapsed_s REAL, created"
                    " REAL NOT NULL, started REAL, finished REAL, message TEXT NOT NULL DEFAULT '', pid INTEGER,"
                    " pid_start TEXT, device TEXT, cancel_requested INTEGER NOT NULL DEFAULT 0)")
        db.execute("INSERT INTO jobs (id, name, variant, dataset, config_json, status, total_steps, created) VALUES"
                   " ('old', 'old', 'dcgan', 'digits', ?, 'finished', 3, 0)", (tiny().to_json(),))
    assert JobManager(tmp_path).get("old").processes == 1


SUMMARY = """
============================================================
gan_core.training.worker FAILED
------------------------------------------------------------
Failures:
[1]:
  time      : 2026-12-03_12:36:35
  host      : localhost
  rank      : 1 (local_rank: 1)
  exitcode  : -9 (pid: 26841)
  error_file: <N/A>
  traceback : Signal 9 (SIGKILL) received by PID 26841
------------------------------------------------------------
Root Cause (first observed failure):
[0]:
  time      : 2026-12-03_12:36:35
  host      : localhost
  rank      : 0 (local_rank: 0)
  exitcode  : 1 (pid: 26840)
  error_file: <N/A>
  traceback : To enable traceback see: https://pytorch.org/docs/stable/elastic/errors.html
============================================================
"""


def test_the_cause_of_a_failed_group_is_a_rank_killed_by_a_signal_else_the_first_to_report_an_error():
    assert describe_rank_failure(SUMMARY) == "rank 1 was killed by SIGKILL"
    both_exited = SUMMARY.replace("-9 (pid", "1 (pid")
    first_rank_1 = ("job x: rank 1 failed: ValueError: bad batch\n"
                    "job x: rank 0 failed: RuntimeError: Connection closed by peer\n" + both_exited)
    assert describe_rank_failure(first_rank_1) == "rank 1 exited with status 1: ValueError: bad batch"
    assert describe_rank_failure(both_exited) == "rank 0 exited with status 1", "torchrun's root cause, without words"
    assert describe_rank_failure("no summary here") is None
