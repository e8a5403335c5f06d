"""Bounded waits on training jobs, for tests whose workers are real subprocesses: through the job store, as the
app's own refresh sees it, or through the Train page's jobs table, as a user sees it."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


def wait_for_job(jobs, job_id: str, condition: Callable, what: str, timeout_s: float):
    """Poll the store (refreshing, as the app does) until `condition(job)` holds; fail naming `what` and the log."""
    deadline = time.monotonic() + timeout_s
    while True:
        jobs.refresh()
        job = jobs.get(job_id)
        if condition(job):
            return job
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out waiting for {what}; job is {job.status} at step {job.step}: {job.message}\n"
                        f"{jobs.log_tail(job_id)}")
        time.sleep(0.2)


def wait_for_table_status(at, statuses: tuple[str, ...], timeout_s: float = 120, poll_s: float = 0.5) -> str:
    """Rerun a Train page (an AppTest) until its jobs table's first row has one of `statuses`; that status."""
    deadline = time.monotonic() + timeout_s
    while True:
        at.run()
        assert not at.exception, at.exception
        status = at.dataframe[0].value["status"].iloc[0]
        if status in statuses:
            return status
        if time.monotonic() >= deadline:
            pytest.fail(f"the job is still {status} after {timeout_s:.0f} s (waiting for {' or '.join(statuses)})")
        time.sleep(poll_s)
