"""The logged curves of the run that made a checkpoint, for pages that show how a shipped model trained.

A run folder keeps `metrics.jsonl` beside its `generator.safetensors`; a shipped model keeps a copy of its
run's file as `checkpoints/<name>.metrics.jsonl` (a few kB), since the run folder itself is not shipped.
"""

from __future__ import annotations

import json
from pathlib import Path


def metrics_file(checkpoint: Path) -> Path:
    checkpoint = Path(checkpoint)
    shipped = checkpoint.with_name(f"{checkpoint.stem}.metrics.jsonl")
    return shipped if shipped.is_file() else checkpoint.with_name("metrics.jsonl")


def logged_series(checkpoint: Path, names: tuple[str, ...]) -> dict[str, tuple[list[int], list[float]]]:
    """name → (steps, values) of each named series the checkpoint's run logged; empty when there is no log."""
    path = metrics_file(checkpoint)
    series: dict[str, tuple[list[int], list[float]]] = {}
    if not path.is_file():
        return series
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:  # a line being written
            continue
        for name in names:
            if name in row:
                steps, values = series.setdefault(name, ([], []))
                steps.append(int(row["step"]))
                values.append(float(row[name]))
    return series
