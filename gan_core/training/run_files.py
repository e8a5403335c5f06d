"""The files of one run folder, named in one place so the trainer, the CLI and the app agree."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gan_core.atomic import atomic_write
from gan_core.checkpoints import GENERATOR_FILE, RESUME_FILE
from gan_core.errors import ConfigError


class RunFiles:
    """Paths and small readers/writers for a run folder.

    Samples are files of the variant's kind (`SampleKind.suffix`: a PNG grid, text lines, a JSON list).
    """

    def __init__(self, run_dir: Path | str, sample_suffix: str = ".png") -> None:
        self.root = Path(run_dir)
        self.sample_suffix = sample_suffix

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def generator(self) -> Path:
        return self.root / GENERATOR_FILE

    @property
    def resume(self) -> Path:
        return self.root / RESUME_FILE

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def status(self) -> Path:
        return self.root / "status.json"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    def sample_path(self, step: int) -> Path:
        return self.samples / f"step_{step:08d}{self.sample_suffix}"

    @property
    def live_sample(self) -> Path:
        """The latest preview, redrawn every `refresh_seconds`; the step grids above are the timeline."""
        return self.samples / f"live{self.sample_suffix}"

    def sample_paths(self) -> list[Path]:
        return sorted(self.samples.glob(f"step_*{self.sample_suffix}")) if self.samples.is_dir() else []

    def write_json(self, path: Path, data: dict[str, Any]) -> None:
        text = json.dumps(data, indent=2, sort_keys=True)
        atomic_write(path, lambda target: target.write_text(text))

    def read_json(self, path: Path) -> dict[str, Any] | None:
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None

    def read_metrics(self) -> Iterator[dict[str, Any]]:
        """Logged rows in order; a torn last line (process killed mid-write) is skipped."""
        if not self.metrics.is_file():
            return
        with open(self.metrics) as handle:
            for line in handle:
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue

    def remove_temporaries(self) -> None:
        """Drop half-written checkpoint files a killed process left behind; each can be as large as a checkpoint."""
        for folder in (self.root, self.samples):
            for temporary in folder.glob(".*.tmp"):
                temporary.unlink(missing_ok=True)

    def truncate_metrics_after(self, step: int) -> None:
        """Drop rows logged after `step`: on resume they are logged again from the checkpoint on."""
        rows = [row for row in self.read_metrics() if row.get("step", 0) <= step]
        text = "".join(json.dumps(row) + "\n" for row in rows)
        atomic_write(self.metrics, lambda target: target.write_text(text))


class RunLock:
    """Held while a process trains in a run folder, so a second trainer cannot write the same run.

    An OS lock (`flock`) on `train.lock`, which the kernel releases when the process ends however it ends,
    so a killed trainer never leaves the folder locked. The file holds the holder's pid, for the message.
    """

    FILE = "train.lock"

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / self.FILE
        self._handle = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115  (held open while training)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise ConfigError(f"{self.path.parent} is being trained by another process (pid {holder}); wait for it to "
                              "end or stop it, then resume") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
