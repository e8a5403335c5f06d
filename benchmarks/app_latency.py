"""App latency, dashboard freshness, training throughput with a viewer, and memory: measured in a real browser.

Starts the real app (`streamlit run app.py` on 127.0.0.1, a fresh temporary runs folder, the shipped
checkpoints) and drives Debian's chromium through Playwright, as a user would:

1. Visits every page once (time until the page's script has finished and its title shows).
2. On /train, sets only `steps` (large, so the job outlives the measurements; it is cancelled after) and
   any `--set` fields, and presses "Start training": DCGAN on mnist_5k, every other setting at its default.
3. Dashboard (issue #3): an in-page recorder (50 ms poll) notes each change of the "Discriminator losses"
   chart's data (points and last step) and of the sample picture's caption (the live preview, "live
   preview at step N", or a step grid). Reported: intervals between successive chart updates, and how
   long after the worker logged a step (metrics.jsonl `time`) the browser showed it; the same for the
   sample picture (a step grid from its file's time; the live preview from its step's row, which the
   worker logs right after drawing it). Once for `--watch` seconds with only the dashboard
   open, and again over the next phases while another tab is in use (the dashboard tab stays open).
4. Other pages while the job runs (issue #3): on /conditional, `--changes` keyboard moves of the
   "Samples per label" slider; on /infogan (issue #6), `--moves` keyboard moves of "Continuous code 1".
   Each is timed in the page from the keydown event to the first animation frame at which the first
   picture has a new `src` and has finished decoding. The page's script is let finish between moves.
5. Throughput (issue #6): the same short job (default settings, `--throughput-steps` steps) started
   from /train `--rounds` times with its tab closed right after the start (no viewer) and as often with
   the /train dashboard left open, alternating which goes first. Images/s come from the job's own
   metrics.jsonl, leaving out the first log interval (warm-up and the step-0 sample grid).
6. Memory: VmHWM (peak resident set, /proc/PID/status) of the Streamlit server after every page was
   visited and at the end, and of each training worker (polled every 0.5 s while it runs).

    python -m benchmarks.app_latency                   # defaults; estimated 5-7 min on 2 quiet cores, ~10 under heavy load
    python -m benchmarks.app_latency --watch 10 --changes 3 --moves 5 --throughput-steps 40 --rounds 1
    python -m benchmarks.app_latency --set sample_every=20  # change a form field of the long job (here: more grids)

Most of the time goes to the throughput jobs (4 x 200 steps of batch 64 by default).

Everything runs on this machine: the browser, the server and the training worker share its cores, as
they do on a laptop. Prints markdown tables; `--json PATH` also writes the raw timings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.browser_session import CHROMIUM, app_server, chromium, wait_until
from gan_core.app.deployment import app_threads
from gan_core.training.jobs import JobManager

PAGES = ("", "train", "infogan", "conditional", "translate", "playground")
LOSS_CHART = "Discriminator losses"

# Script state of the whole app, as Streamlit's frontend marks it on its root element.
IDLE = """() => { const app = document.querySelector('[data-testid="stApp"]');
                  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'; }"""

# Records, every 50 ms, each change of the loss chart's data and of the sample picture's caption.
# Trace arrays may arrive as numpy's base64 typed-array form: plotly.js then keeps the decoded array
# in the spec's `_inputArray` (and in `_fullData`).
RECORDER = """(chartTitle) => {
  const log = {chart: [], samples: [], runs: []};
  window.__bench = log;
  let lastChart = null, lastSample = null;
  const titleOf = plot => {  // Streamlit's theme wraps the title in <b> tags
    const t = plot.layout && plot.layout.title;
    return String((t && t.text !== undefined ? t.text : t) || '').replace(/<[^>]*>/g, '');
  };
  const xOf = plot => {
    const x = plot.data && plot.data[0] && plot.data[0].x;
    if (!x || Array.isArray(x) || ArrayBuffer.isView(x)) return x;
    if (x._inputArray) return x._inputArray;
    const full = plot._fullData && plot._fullData[0];
    return full && full.x;
  };
  setInterval(() => {  // while a chart is redrawn its old element may linger: take the longest series
    const series = [...document.querySelectorAll('.js-plotly-plot')]
      .filter(plot => titleOf(plot) === chartTitle)
      .map(xOf).filter(x => x && x.length);
    const x = series.sort((a, b) => b.length - a.length)[0];
    if (x && x.length) {
      const signature = x.length + ':' + x[x.length - 1];
      if (signature !== lastChart) { lastChart = signature; log.chart.push({t: Date.now(), n: x.length, step: Number(x[x.length - 1])}); }
    }
    const caption = document.querySelector('[data-testid="stImageCaption"]');
    const img = document.querySelector('[data-testid="stImage"] img');
    if (caption && img && img.complete && img.naturalWidth > 0) {
      const text = caption.textContent.trim();
      if (text !== lastSample) { lastSample = text; log.samples.push({t: Date.now(), caption: text}); }
    }
  }, 50);
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => log.runs.push({t: Date.now(), state: app.getAttribute('data-test-script-state')}))
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""

# Arms a probe: the keydown time, then the first frame at which picture `index` has a new, decoded src.
ARM = """([selector, index]) => {
  const picture = () => document.querySelectorAll(selector)[index];
  const before = picture() ? picture().src : null;
  const probe = {down: null, shown: null, stop: false};
  window.__probe = probe;
  document.addEventListener('keydown', () => { if (probe.down === null) probe.down = performance.now(); },
                            {capture: true, once: true});
  const tick = () => {
    if (probe.stop) return;
    const img = picture();
    if (probe.down !== null && img && img.src !== before && img.complete && img.naturalWidth > 0) {
      probe.shown = performance.now(); return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


# --- numbers ---------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "median": None, "p90": None, "max": None}
    return {"n": len(values), "median": statistics.median(values), "p90": percentile(values, 0.9), "max": max(values)}


def fmt(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def mb(kb: float | None) -> str:
    return fmt(kb / 1024 if kb else None)


def ms_row(name: str, values: Sequence[float], extra: str = "") -> str:
    s = summary(values)
    return f"| {name} | {s['n']} | {fmt(s['median'])} | {fmt(s['p90'])} | {fmt(s['max'])} | {extra} |"


def s_row(name: str, values: Sequence[float], extra: str = "") -> str:
    s = summary(values)
    return f"| {name} | {s['n']} | {fmt(s['median'], 2)} | {fmt(s['p90'], 2)} | {fmt(s['max'], 2)} | {extra} |"


# --- processes -------------------------------------------------------------------------------
def memory_kb(pid: int) -> dict[str, int]:
    """VmHWM and VmRSS of `pid` in kB ({} once it has exited)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            values[key] = int(rest.split()[0])
    return values


class MemoryWatch:
    """Polls the peak resident memory of the server and of every running job's worker every 0.5 s."""

    def __init__(self, jobs: JobManager, server_pid: int) -> None:
        self.jobs, self.server_pid = jobs, server_pid
        self.peaks: dict[str, int] = {}  # job id or "server" -> VmHWM kB
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self.poll()

    def poll(self) -> None:
        targets = {"server": self.server_pid}
        try:
            targets.update({job.id: job.pid for job in self.jobs.list_jobs() if job.status == "running" and job.pid})
        except Exception:  # a busy database only skips one poll
            pass
        for name, pid in targets.items():
            peak = memory_kb(pid).get("VmHWM")
            if peak is not None:
                self.peaks[name] = max(peak, self.peaks.get(name, 0))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time `pid` has used so far (None once it has exited)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (here: Playwright's driver and the browser's processes)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_snapshot(server_pid: int) -> dict[str, dict[int, float]]:
    """CPU seconds used so far, per process, by the app server, by its children (the training workers)
    and by the browser (this script's other descendants: Playwright's driver and chromium's processes).

    CPU time, unlike wall time, hardly depends on how busy the machine is: it says what the dashboard
    costs, where latencies on a loaded machine mostly say how long it waited for a core. (Until session 8
    the workers, which the server starts, were counted as the browser: 1.62 there was about 0.6 + 1.0.)"""
    workers = set(descendants(server_pid))
    browser = [pid for pid in descendants(os.getpid()) if pid != server_pid and pid not in workers]
    groups = {"server": [server_pid], "workers": sorted(workers), "browser": browser}
    return {name: {pid: seconds for pid in pids if (seconds := cpu_seconds(pid)) is not None}
            for name, pids in groups.items()}


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds each group used between two snapshots; a process that exited in between (a closed
    tab's renderer) counts for nothing rather than subtracting its whole past."""
    return {name: sum(seconds - before[name].get(pid, 0.0) for pid, seconds in after[name].items())
            for name in after}


def machine_facts() -> dict[str, Any]:
    from importlib import metadata

    import streamlit
    import torch

    from gan_core.device import describe_device, resolve_device

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    cores = os.cpu_count() or 1
    return {
        "cpu": cpu, "cores": cores, "load_average_start": os.getloadavg(),
        "python": platform.python_version(), "torch": torch.__version__, "streamlit": streamlit.__version__,
        "playwright": metadata.version("playwright"),
        "device_auto": describe_device(resolve_device("auto")),
        "worker_threads": max(1, cores - 1),  # gan_core/training/worker.py: torch.set_num_threads(cores - 1)
        "app_threads": app_threads(),  # app_shell.open_app: torch.set_num_threads(app_threads())
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "(unset)"),
        # The server inherits these (e.g. STREAMLIT_RUNNER_POST_SCRIPT_GC=false: no full gc.collect() after each run)
        "streamlit_env": {name: value for name, value in os.environ.items() if name.startswith("STREAMLIT_")},
    }


# --- browser steps ---------------------------------------------------------------------------
def open_page(browser, url: str, timeout_s: float = 120):
    """A new tab (its own Streamlit session) on `url`, once its script has finished; (page, seconds)."""
    page = browser.new_page()
    page.set_default_timeout(timeout_s * 1000)
    started = time.perf_counter()
    page.goto(url)
    page.locator("[data-testid='stMain'] h1").first.wait_for()
    page.wait_for_function(IDLE, timeout=timeout_s * 1000)
    return page, time.perf_counter() - started


EXPANDERS = {"Optimiser": ("optimizer", "lr_g", "lr_d", "beta1", "beta2", "n_critic", "lr_decay_start"),
             "Objective": ("objective", "label_smoothing", "spectral_norm", "weight_clip", "gp_weight", "ema_decay"),
             "Networks": ("noise_dim", "width"), "Logging": ("log_every", "sample_every", "checkpoint_every")}


def start_job(browser, url: str, steps: int, jobs: JobManager, fields: dict[str, str] | None = None) -> tuple[Any, str]:
    """Open /train, set steps (and `fields`, text or number inputs), press Start training; (page, job id).

    Everything else keeps the form's default: DCGAN on mnist_5k."""
    before = {job.id for job in jobs.list_jobs()}
    page, _ = open_page(browser, f"{url}/train")
    for name, value in {"steps": str(steps), **(fields or {})}.items():
        field = page.get_by_label(name.replace("_", " "), exact=True)
        expander = next((title for title, names in EXPANDERS.items() if name in names), None)
        if expander and not field.is_visible():  # fields in collapsed expanders
            page.get_by_text(expander, exact=True).click()
        field.fill(value)
        field.press("Tab")
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Started job").wait_for(timeout=60_000)
    new = [job.id for job in jobs.list_jobs() if job.id not in before]
    if len(new) != 1:
        raise RuntimeError(f"expected one new job after Start training, found {new}")
    return page, new[0]


def timed_keys(page, slider_index: int, picture_selector: str, picture_index: int, moves: int,
               pattern: Sequence[str], timeout_s: float, pause_s: float) -> tuple[list[float], int]:
    """Press keys on a slider; ms from keydown to the picture showing its new src. (latencies, timeouts)."""
    slider = page.get_by_role("slider").nth(slider_index)
    latencies, timeouts = [], 0
    for move in range(moves):
        page.wait_for_function(IDLE, timeout=timeout_s * 1000)
        time.sleep(pause_s)
        slider.focus()
        page.evaluate(ARM, [picture_selector, picture_index])
        slider.press(pattern[move % len(pattern)])
        try:
            page.wait_for_function("() => window.__probe.shown !== null", timeout=timeout_s * 1000)
            latencies.append(page.evaluate("() => window.__probe.shown - window.__probe.down"))
        except Exception as error:  # Playwright's TimeoutError: count it, stop the probe, go on
            if "Timeout" not in type(error).__name__:
                raise
            page.evaluate("() => { window.__probe.stop = true; }")
            timeouts += 1
    return latencies, timeouts


def key_pattern(moves_each_way: int) -> list[str]:
    return ["ArrowRight"] * moves_each_way + ["ArrowLeft"] * moves_each_way


# --- job data --------------------------------------------------------------------------------
def metrics_rows(runs: Path, job_id: str) -> list[dict[str, Any]]:
    path = runs / job_id / "metrics.jsonl"
    rows = []
    for line in path.read_text().splitlines() if path.is_file() else []:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return rows


def throughput(rows: list[dict[str, Any]], images_per_step: int, skip: int = 1) -> dict[str, float | None]:
    """Images/s over the logged intervals after the first `skip`: total images / total interval time."""
    images = seconds = 0.0
    per_interval = []
    for previous, row in list(zip([{"step": 0}, *rows], rows))[skip:]:
        count = (row["step"] - previous["step"]) * images_per_step
        if row.get("images_per_s"):
            images += count
            seconds += count / row["images_per_s"]
            per_interval.append(row["images_per_s"])
    return {"images_per_s": images / seconds if seconds else None,
            "median_interval": statistics.median(per_interval) if per_interval else None, "intervals": len(per_interval)}


def freshness(records: list[dict[str, Any]], start_ms: float, end_ms: float, logged_at: dict[int, float]):
    """(intervals s between successive updates, lag s from the worker's log time to the browser showing it)."""
    inside = [r for r in records if start_ms <= r["t"] <= end_ms]
    intervals = [(b["t"] - a["t"]) / 1000 for a, b in zip(inside, inside[1:])]
    lags = [r["t"] / 1000 - logged_at[r["step"]] for r in inside if r.get("step") in logged_at]
    return intervals, lags


def sample_step(caption: str) -> tuple[str, int] | None:
    """("live", N) for "live preview at step N", ("grid", N) for "samples at step_0000N", else None."""
    live = re.search(r"live preview at step (\d+)", caption)
    if live:
        return "live", int(live.group(1))
    digits = "".join(ch for ch in caption.rsplit("step_", 1)[-1] if ch.isdigit())
    return ("grid", int(digits)) if "step_" in caption and digits else None


def wait_job_ended(jobs: JobManager, job_id: str, timeout_s: float) -> str:
    return wait_until(lambda: (status := jobs.get(job_id).status) not in ("queued", "running") and status,
                      timeout_s, f"job {job_id} to end", interval_s=0.5)


# --- the benchmark ---------------------------------------------------------------------------
def run(args: argparse.Namespace) -> dict[str, Any]:
    facts = machine_facts()
    results: dict[str, Any] = {"facts": facts, "args": vars(args)}
    work = Path(tempfile.mkdtemp(prefix="gan-studio-latency-"))
    runs = work / "runs"
    began = time.monotonic()
    print(f"working in {work}", file=sys.stderr)
    with app_server(runs, work / "server.log") as server, chromium() as browser:
        facts["chromium"] = f"{CHROMIUM} {browser.version}"
        jobs = JobManager(runs)
        watch = MemoryWatch(jobs, server.process.pid)
        try:
            # 1. every page once
            loads = {}
            for path in PAGES:
                page, seconds = open_page(browser, f"{server.url}/{path}")
                loads["/" + path] = seconds
                page.close()
            results["page_load_s"] = loads
            results["server_after_pages_kb"] = memory_kb(server.process.pid)
            print(f"pages visited ({time.monotonic() - began:.0f}s)", file=sys.stderr)

            # 2. a long job from /train, default settings but its length
            clicked = time.time()
            dashboard, job_id = start_job(browser, server.url, args.job_steps, jobs, dict(args.set))
            dashboard.evaluate(RECORDER, LOSS_CHART)
            wait_until(lambda: dashboard.evaluate("() => window.__bench.chart.length") > 0, 180,
                       "the loss chart's first points")
            first_chart = dashboard.evaluate("() => window.__bench.chart[0].t") / 1000
            job = jobs.get(job_id)
            results["job"] = {"id": job_id, "device": job.device, "config": json.loads(job.config_json),
                              "click_to_first_points_s": first_chart - clicked,
                              "visibility": dashboard.evaluate("() => document.visibilityState")}
            print(f"job {job_id} on {job.device}: first points after {first_chart - clicked:.1f}s", file=sys.stderr)

            # 3. the dashboard alone
            windows = {"alone": [time.time() * 1000, None], "busy": [None, None]}
            steps_at = {"alone": jobs.get(job_id).step}
            cpu_before = cpu_snapshot(server.process.pid)
            time.sleep(args.watch)
            cpu_after = cpu_snapshot(server.process.pid)
            windows["alone"][1] = windows["busy"][0] = time.time() * 1000
            steps_at["busy"] = jobs.get(job_id).step
            watched = (windows["alone"][1] - windows["alone"][0]) / 1000
            results["dashboard_cpu_share"] = {name: used / watched
                                              for name, used in cpu_used(cpu_before, cpu_after).items()}

            # 4. other pages while it runs (the dashboard tab stays open)
            other, results["conditional_load_s"] = open_page(browser, f"{server.url}/conditional")
            latencies, timeouts = timed_keys(other, 0, "[data-testid='stImage'] img", 0, args.changes,
                                             key_pattern(1), args.timeout, args.pause)
            results["conditional_ms"], results["conditional_timeouts"] = latencies, timeouts
            other.close()
            print(f"/conditional: {len(latencies)} changes ({time.monotonic() - began:.0f}s)", file=sys.stderr)
            other, results["infogan_load_s"] = open_page(browser, f"{server.url}/infogan")
            latencies, timeouts = timed_keys(other, 0, "[data-testid='stImage'] img", 0, args.moves,
                                             key_pattern(5), args.timeout, args.pause)
            results["infogan_ms"], results["infogan_timeouts"] = latencies, timeouts
            other.close()
            print(f"/infogan: {len(latencies)} moves ({time.monotonic() - began:.0f}s)", file=sys.stderr)
            windows["busy"][1] = time.time() * 1000
            job = jobs.get(job_id)
            steps_at["end"] = job.step
            results["job"]["status_after_measurements"] = job.status
            results["job"]["steps_per_s"] = {
                "alone": (steps_at["busy"] - steps_at["alone"]) / ((windows["alone"][1] - windows["alone"][0]) / 1000),
                "busy": (steps_at["end"] - steps_at["busy"]) / ((windows["busy"][1] - windows["busy"][0]) / 1000)}

            recorded = dashboard.evaluate("() => window.__bench")
            rows = metrics_rows(runs, job_id)
            logged_at = {row["step"]: row["time"] for row in rows}
            sample_files = {("grid", int(p.stem.removeprefix("step_"))): p.stat().st_mtime
                            for p in jobs.sample_paths(job_id)}
            sample_files.update({("live", step): logged for step, logged in logged_at.items()})
            for record in recorded["samples"]:
                record["step"] = sample_step(record["caption"])
            dashboard_results = {}
            for name, (start, end) in windows.items():
                chart_intervals, chart_lags = freshness(recorded["chart"], start, end, logged_at)
                sample_intervals, sample_lags = freshness(recorded["samples"], start, end, sample_files)
                log_times = [row["time"] for row in rows if start / 1000 <= row["time"] <= end / 1000]
                states = [r for r in recorded["runs"] if start <= r["t"] <= end]
                durations = [(b["t"] - a["t"]) / 1000 for a, b in zip(states, states[1:])
                             if a["state"] == "running" and b["state"] == "notRunning"]
                dashboard_results[name] = {
                    "seconds": (end - start) / 1000, "chart_intervals_s": chart_intervals, "chart_lag_s": chart_lags,
                    "sample_intervals_s": sample_intervals, "sample_lag_s": sample_lags,
                    "log_intervals_s": [b - a for a, b in zip(log_times, log_times[1:])], "run_durations_s": durations}
            results["dashboard"] = dashboard_results
            watch.poll()
            results["long_job_worker_kb"] = watch.peaks.get(job_id)
            dashboard.close()
            if jobs.get(job_id).status in ("queued", "running"):  # it outlived the measurements, as meant
                jobs.cancel(job_id)
            results["job"]["final_status"] = wait_job_ended(jobs, job_id, 120)

            # 5. throughput with and without a viewer, alternating which goes first
            runs_table = []
            for round_index in range(args.rounds):
                order = ("none", "dashboard") if round_index % 2 == 0 else ("dashboard", "none")
                for viewer in order:
                    page, tid = start_job(browser, server.url, args.throughput_steps, jobs)
                    if viewer == "none":
                        page.close()
                    started, cpu_before = time.monotonic(), cpu_snapshot(server.process.pid)
                    status = wait_job_ended(jobs, tid, args.job_timeout)
                    wall = time.monotonic() - started
                    browser_cpu = cpu_used(cpu_before, cpu_snapshot(server.process.pid))["browser"] / wall
                    if viewer == "dashboard":
                        page.close()
                    config = jobs.get(tid).config
                    speed = throughput(metrics_rows(runs, tid), config.batch_size * config.n_critic)
                    runs_table.append({"round": round_index + 1, "viewer": viewer, "job": tid, "status": status,
                                       "wall_s": wall, "browser_cpu": browser_cpu, "worker_kb": watch.peaks.get(tid),
                                       **speed})
                    print(f"throughput round {round_index + 1} {viewer}: {fmt(speed['images_per_s'])} img/s "
                          f"({time.monotonic() - began:.0f}s)", file=sys.stderr)
            results["throughput"] = runs_table
            watch.poll()
            results["server_end_kb"] = memory_kb(server.process.pid)
            results["server_peak_kb"] = watch.peaks.get("server")
        finally:
            watch.stop()
            stop_all_jobs(jobs)
    facts["load_average_end"] = os.getloadavg()
    if args.keep:
        print(f"kept {work} (server.log, runs/)", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    results["total_s"] = time.monotonic() - began
    return results


def report(results: dict[str, Any]) -> str:
    facts, job = results["facts"], results["job"]
    out = [
        "## GAN Studio in the browser: latency, freshness, throughput, memory (benchmarks/app_latency.py)",
        "",
        f"Machine: {facts['cpu']}, {facts['cores']} cores, load average {facts['load_average_start'][0]:.2f} at the "
        f"start and {facts['load_average_end'][0]:.2f} at the end; Python {facts['python']}, torch {facts['torch']}, "
        f"streamlit {facts['streamlit']}, playwright {facts['playwright']}, {facts['chromium']} (headless).",
        f"Device (auto): {facts['device_auto']}; the training worker ran on {job['device']} "
        f"(worker threads = cores - 1 = {facts['worker_threads']}); the app server's torch threads "
        f"{facts['app_threads']} (GAN_STUDIO_APP_THREADS or half the cores); OMP_NUM_THREADS={facts['OMP_NUM_THREADS']} "
        "for this script, the server and the worker. Browser, server and worker share this machine. "
        f"Streamlit settings from the environment: {facts.get('streamlit_env') or 'none'} "
        "(plus the repository's .streamlit/config.toml).",
        f"Job: {job['config']['variant']} on {job['config']['dataset']}, form defaults"
        f"{''.join(f', {name}={value} set' for name, value in results['args']['set'])} (batch {job['config']['batch_size']}, "
        f"image {job['config']['image_size']}, log every {job['config']['log_every']}, sample every "
        f"{job['config']['sample_every']}), steps {job['config']['steps']}, started with the Start training button; "
        f"first curve points {job['click_to_first_points_s']:.1f} s after the click; it trained at "
        f"{job['steps_per_s']['alone']:.1f} steps/s with only the dashboard open and {job['steps_per_s']['busy']:.1f} "
        f"steps/s while the other pages were used; still {job['status_after_measurements']} after them "
        f"(then {job['final_status']}). Dashboard tab visibility: {job['visibility']}.",
        f"Total time {results['total_s']:.0f} s.",
        "",
        "### Issue #3: /train dashboard freshness while the job runs",
        "",
        "| what | n | median s | p90 s | max s | note |",
        "|---|---|---|---|---|---|",
    ]
    for name, label in (("alone", "only the dashboard open"), ("busy", "while /conditional and /infogan are used")):
        d = results["dashboard"][name]
        out += [
            s_row(f"loss chart: interval between updates ({label})", d["chart_intervals_s"], f"window {d['seconds']:.0f} s"),
            s_row(f"loss chart: worker log → shown ({label})", d["chart_lag_s"]),
            s_row(f"worker: interval between log rows ({label})", d["log_intervals_s"], "the job's own cadence"),
            s_row(f"sample picture: interval between updates ({label})", d["sample_intervals_s"],
                  "live preview or step grid"),
            s_row(f"sample picture: drawn → shown ({label})", d["sample_lag_s"],
                  "live: from its step's log row; grid: from its file"),
            s_row(f"dashboard tab: script run duration ({label})", d["run_durations_s"],
                  "fragment reruns (live view every 0.5 s, jobs table every 3 s, sidebar every 5 s)"),
        ]
    cpu = results.get("dashboard_cpu_share")
    if cpu:
        out += ["", f"CPU used with only the dashboard open (CPU seconds per second; {results['facts']['cores']} cores): "
                    f"Streamlit server {cpu['server']:.2f}, browser {cpu['browser']:.2f}, training worker "
                    f"{cpu['workers']:.2f}. Unlike the times above, this hardly depends on how busy the machine is."]
    out += [
        "",
        "### Issues #3 and #6: widget change → new picture, with the job training and the dashboard open in another tab",
        "",
        "| page: change | n | median ms | p90 ms | max ms | note |",
        "|---|---|---|---|---|---|",
        ms_row("/conditional: 'Samples per label' slider, one key press", results["conditional_ms"],
               f"{results['conditional_timeouts']} timed out; page opened in {results['conditional_load_s']:.1f} s"),
        ms_row("/infogan: 'Continuous code 1' slider, one key press", results["infogan_ms"],
               f"{results['infogan_timeouts']} timed out; page opened in {results['infogan_load_s']:.1f} s"),
        "",
        "Timed in the page: keydown event → first animation frame with the first picture's new `src` decoded.",
        "",
        "### Issue #6: training throughput with and without the /train dashboard open",
        "",
        "| round | viewer | job | status | img/s (after 1st log) | median interval img/s | wall s | browser CPU-s/s "
        "| worker peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["throughput"]:
        out.append(f"| {row['round']} | {row['viewer']} | {row['job']} | {row['status']} | {fmt(row['images_per_s'])} | "
                   f"{fmt(row['median_interval'])} | {row['wall_s']:.0f} | {row['browser_cpu']:.2f} | "
                   f"{mb(row['worker_kb'])} |")
    by_viewer = {v: [r["images_per_s"] for r in results["throughput"] if r["viewer"] == v and r["images_per_s"]]
                 for v in ("none", "dashboard")}
    if by_viewer["none"] and by_viewer["dashboard"]:
        none, viewed = statistics.mean(by_viewer["none"]), statistics.mean(by_viewer["dashboard"])
        pairs = [b["images_per_s"] / a["images_per_s"] for a, b in (
            (next(r for r in results["throughput"] if r["round"] == n and r["viewer"] == "none"),
             next(r for r in results["throughput"] if r["round"] == n and r["viewer"] == "dashboard"))
            for n in sorted({r["round"] for r in results["throughput"]})) if a["images_per_s"] and b["images_per_s"]]
        out += ["", f"Mean img/s: no viewer {none:.0f}, dashboard open {viewed:.0f}: ratio {viewed / none:.3f} "
                    f"(per round: {', '.join(f'{p:.3f}' for p in pairs)}; target ≥ 0.90)."]
    loads = results["page_load_s"]
    out += [
        "",
        "### Memory (peak resident set, VmHWM)",
        "",
        "| process | peak MB | note |",
        "|---|---|---|",
        f"| Streamlit server, after visiting every page once | {mb(results['server_after_pages_kb'].get('VmHWM'))} | "
        f"{', '.join(f'{p} {s:.1f} s' for p, s in loads.items())} to load |",
        f"| Streamlit server, at the end | {mb(results['server_end_kb'].get('VmHWM'))} | "
        f"RSS now {mb(results['server_end_kb'].get('VmRSS'))} MB |",
        f"| training worker, the long default job | {mb(results['long_job_worker_kb'])} | polled every 0.5 s |",
    ]
    worker_peaks = [r["worker_kb"] for r in results["throughput"] if r["worker_kb"]]
    if worker_peaks:
        out.append(f"| training worker, the throughput jobs (max) | {mb(max(worker_peaks))} | {len(worker_peaks)} jobs |")
    return "\n".join(out)


def stop_all_jobs(jobs: JobManager) -> None:
    """Kill every worker still queued or running: workers run in their own session, so they outlive the
    server, and a benchmark that stopped early (an error, Ctrl-C) must not leave a 20,000-step job behind."""
    for job in jobs.list_jobs():
        if job.status in ("queued", "running") and job.pid:
            try:
                os.kill(job.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.app_latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--job-steps", type=int, default=20000,
                        help="steps of the long job watched on the dashboard (cancelled once measured)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", type=lambda t: t.split("=", 1),
                        help="also set this form field of the long job, e.g. --set sample_every=20 (default: none)")
    parser.add_argument("--watch", type=float, default=30.0, help="seconds of watching the dashboard alone")
    parser.add_argument("--changes", type=int, default=10, help="slider changes on /conditional")
    parser.add_argument("--moves", type=int, default=20, help="slider moves on /infogan")
    parser.add_argument("--throughput-steps", type=int, default=200, help="steps of each throughput job")
    parser.add_argument("--rounds", type=int, default=2, help="throughput rounds (one job with, one without viewer)")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between slider moves, once the script is idle")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds one slider move may take")
    parser.add_argument("--job-timeout", type=float, default=600.0, help="seconds one throughput job may take")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary runs folder and server log")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).is_file():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 2
    results = run(args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
