"""The real app in a real browser: `streamlit run app.py` on 127.0.0.1, and Debian's chromium via Playwright.

Shared by tests/test_browser.py and benchmarks/app_latency.py. Every wait is bounded; leaving
`app_server` stops the server and every training worker it started (workers run in their own session,
so they would otherwise outlive it). Playwright is imported only when a browser is launched, so a
caller can skip cleanly where the package is missing.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run")
REPO = Path(__file__).resolve().parents[1]

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], T], timeout_s: float, what: str, interval_s: float = 0.25) -> T:
    """The first truthy value of `condition()`, polled every `interval_s`; TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval_s)
    raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")


@dataclass(frozen=True)
class AppServer:
    url: str
    process: subprocess.Popen
    runs: Path


def stop_workers(runs: Path) -> None:
    """SIGKILL the workers of jobs still marked running in `runs` (they are not the server's children)."""
    from gan_core.training.jobs import JobManager

    if not (runs / "jobs.sqlite3").is_file():
        return
    for job in JobManager(runs).list_jobs():
        if job.status == "running" and job.pid:
            try:
                os.kill(job.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@contextmanager
def app_server(runs: Path, log_path: Path, checkpoints: Path | None = None,
               env: Mapping[str, str] | None = None, start_timeout_s: float = 60) -> Iterator[AppServer]:
    """`streamlit run app.py` on a free port of 127.0.0.1 with its jobs in `runs`, until the block ends."""
    runs.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, **(env or {}), "GAN_STUDIO_RUNS": str(runs)}
    if checkpoints is not None:
        environment["GAN_STUDIO_CHECKPOINTS"] = str(checkpoints)
    port = free_port()
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
             "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
            cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            def healthy() -> bool:
                if process.poll() is not None:
                    raise RuntimeError(f"the Streamlit server exited with status {process.returncode}; see {log_path}")
                try:
                    return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200
                except OSError:
                    return False

            wait_until(healthy, start_timeout_s, "the Streamlit server to start")
            yield AppServer(url, process, runs)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            stop_workers(runs)


@contextmanager
def chromium(executable: str = CHROMIUM) -> Iterator[Any]:
    """A headless Debian chromium driven by Playwright (never a downloaded browser build)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()
