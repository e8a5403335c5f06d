"""The 2-D playground's live view in a real browser: how often it redraws while playing, and how fast it trains.

Issue #7 asks for at least 10 updates per second of the views on this CPU while training runs. This starts
the real app (`streamlit run app.py` on 127.0.0.1, a fresh temporary runs folder), opens /playground in
Debian's chromium with the page's defaults (or `--target`, `--steps-per-refresh`), presses Play, and for
`--seconds` records in the page, at every animation frame, each new board picture shown (decoded) and the
"Generator steps" metric beside it. Reported: board redraws per second and the
intervals between them, generator steps per second, and the CPU seconds per second the server and the
browser spent (both share this machine's cores).

    python -m benchmarks.playground_views
    python -m benchmarks.playground_views --target grid25 --seconds 60
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import browser_session as session
from benchmarks.app_latency import cpu_snapshot, machine_facts, open_page, percentile

TARGET_LABELS = {"ring8": "Ring of 8 Gaussians", "grid25": "5×5 grid of 25 Gaussians", "spiral": "Spiral",
                 "moons": "Two moons"}

# Notes the time and the steps metric whenever the board's picture has a new source that has finished decoding.
RECORD = """() => {
  const log = {frames: 0, board: []};
  window.__views = log;
  let last = null;
  const tick = () => {
    if (log.stop) return;
    log.frames += 1;
    const board = document.querySelector('[data-testid="stImage"] img');
    if (board && board.src !== last && board.complete && board.naturalWidth > 0) {
      last = board.src;
      const metric = document.querySelector('[data-testid="stMetricValue"]');
      log.board.push({t: performance.now(), steps: metric ? metric.textContent : ''});
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def generator_steps(text: str) -> int | None:
    """The number before any "/ budget" in the "Generator steps" metric ("1,234 / 10,000" → 1234)."""
    match = re.match(r"\s*([\d,]+)", text)
    return int(match.group(1).replace(",", "")) if match else None


def measure(args: argparse.Namespace) -> dict[str, Any]:
    facts = machine_facts()
    with tempfile.TemporaryDirectory() as scratch, \
            session.app_server(Path(scratch) / "runs", Path(scratch) / "server.log") as app, \
            session.chromium() as browser:
        page, load_s = open_page(browser, f"{app.url}/playground")
        page.set_viewport_size({"width": 1400, "height": 1000})
        if args.target != "ring8":
            page.get_by_label("Target").click()  # selectbox: open it, then pick the option
            page.get_by_role("option", name=TARGET_LABELS[args.target]).click()
            time.sleep(2)
        if args.steps_per_refresh is not None:
            slider = page.get_by_role("slider", name="Steps per refresh")
            slider.focus()
            slider.press("Home")
            for _ in range(args.steps_per_refresh - 1):
                slider.press("ArrowRight")
            time.sleep(2)
        page.evaluate(RECORD)
        page.get_by_role("button", name="Play").click()
        time.sleep(args.warmup)
        cpu_before, wall_before = cpu_snapshot(app.process.pid), time.perf_counter()
        first = page.evaluate("() => window.__views.board.length")
        time.sleep(args.seconds)
        log = page.evaluate("() => { window.__views.stop = true; return window.__views; }")
        cpu_after, wall = cpu_snapshot(app.process.pid), time.perf_counter() - wall_before
        page.get_by_role("button", name="Pause").click()
    board = log["board"][first:]
    intervals = [(later["t"] - earlier["t"]) / 1000 for earlier, later in zip(board, board[1:], strict=False)]
    steps = [generator_steps(row["steps"]) for row in board]
    steps = [value for value in steps if value is not None]
    span = (board[-1]["t"] - board[0]["t"]) / 1000 if len(board) > 1 else None
    return {
        "facts": facts, "load_s": load_s, "window_s": wall, "target": args.target,
        "redraws": len(board), "intervals": intervals,
        "redraws_per_s": (len(board) - 1) / span if span else None,
        "steps_per_s": (steps[-1] - steps[0]) / span if span and len(steps) > 1 else None,
        "cpu_per_s": {name: (cpu_after[name] - cpu_before[name]) / wall for name in cpu_after},
        "load_average_end": os.getloadavg(),
    }


def report(results: dict[str, Any], command: str) -> str:
    facts, intervals = results["facts"], results["intervals"]
    rate, steps = results["redraws_per_s"], results["steps_per_s"]
    lines = [
        f"command: {command}",
        f"Machine: {facts['cpu']}, {facts['cores']} cores, load average {facts['load_average_start'][0]:.2f} at the start, "
        f"{results['load_average_end'][0]:.2f} at the end; streamlit {facts['streamlit']}, torch {facts['torch']}, chromium headless.",
        f"/playground loaded in {results['load_s']:.1f} s; target {results['target']}; Play pressed, "
        f"{results['window_s']:.0f} s recorded after the warm-up.",
        "",
        "| what | value |",
        "|---|---|",
        f"| board redraws per second (target ≥ 10) | {rate:.1f} |" if rate else "| board redraws per second | — |",
        f"| interval between redraws: median / p90 / max | {statistics.median(intervals) * 1000:.0f} / "
        f"{percentile(intervals, 0.9) * 1000:.0f} / {max(intervals) * 1000:.0f} ms |" if intervals else "| intervals | — |",
        f"| generator steps per second | {steps:.0f} |" if steps else "| generator steps per second | — |",
        f"| CPU seconds per second: server / browser | {results['cpu_per_s']['server']:.2f} / "
        f"{results['cpu_per_s']['browser']:.2f} |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30, help="how long to record while playing")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of play before recording")
    parser.add_argument("--target", choices=sorted(TARGET_LABELS), default="ring8")
    parser.add_argument("--steps-per-refresh", type=int, default=None, help="the page's slider (default: the page's)")
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    command = " ".join(["python -m benchmarks.playground_views", *argv])
    print(report(measure(args), command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
