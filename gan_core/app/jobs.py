"""Training jobs as the pages see them: the job store, dataset uploads, and how a job's progress reads.

The Train page and the sidebar talk to `JobManager` through these; nothing here imports Streamlit.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

from gan_core.app.deployment import DeploymentSettings, runs_dir
from gan_core.data.archive import ZipLimits, extract_image_zip
from gan_core.data.catalogue import DataSource, dataset_entry
from gan_core.data.torchvision_sets import default_root
from gan_core.training.jobs import ACTIVE, JobManager
from gan_core.training.preflight import check_before_start

# ACTIVE: the statuses a page refreshes for; check_before_start: what Start checks before a job exists.
__all__ = ["ACTIVE", "check_before_start", "dataset_source", "download_root", "job_manager"]


def job_manager() -> JobManager:
    """The job store; $GAN_STUDIO_MAX_JOBS jobs may train at once (default 1: a laptop has few cores)."""
    return JobManager(runs_dir(), max_concurrent=int(os.environ.get("GAN_STUDIO_MAX_JOBS", "1")),
                      jobs_per_session=DeploymentSettings.from_env().jobs_per_session)


def dataset_source(name: str) -> DataSource:
    """What the form asks for a dataset: nothing (embedded), an optional download folder, or the user's folder."""
    return dataset_entry(name).source


def download_root() -> Path:
    """Where downloaded datasets are kept unless a folder is named: shared with the command line."""
    return default_root()


def unpack_dataset_zip(data: bytes) -> tuple[Path, str]:
    """Unpack an uploaded dataset zip under the runs folder, once per distinct file: (folder, summary).

    The folder is named by the zip's hash, so uploading the same file again reuses it and two users'
    different files never share a folder. Extraction applies every zip-safety limit and raises
    `DatasetUnavailableError` with what was wrong and what is accepted.
    """
    destination = runs_dir() / "datasets" / hashlib.sha256(data).hexdigest()[:16]
    if destination.is_dir() and any(destination.iterdir()):
        return destination, "this zip was unpacked before; its images are ready"
    destination.parent.mkdir(parents=True, exist_ok=True)
    return destination, extract_image_zip(data, destination).describe()


TRANSLATION_LAYOUT = ("the official layout: train/ of A|B side-by-side pairs, or trainA/ and trainB/ folders; "
                      "test/, val/ or testA/ testB/ for held-out images")


def dataset_zip_limits(pairs: bool = False) -> str:
    """What a dataset zip may be, for a single-domain (`pairs` False) or an image-to-image dataset."""
    return ZipLimits().describe(TRANSLATION_LAYOUT) if pairs else ZipLimits().describe()


def new_session_id() -> str:
    """Identifies one browser session's jobs; not a secret, just unique."""
    return secrets.token_hex(8)


def live_preview_step(metrics_path: Path, drawn_at: float, tail_bytes: int = 16384) -> int | None:
    """The step a run's live preview shows: the trainer draws it, then logs that step's row (metrics.jsonl
    `time`), so it is the first row logged at or after the picture's modification time `drawn_at`.

    Reads only the file's tail; None where that row is not logged yet or lies before the tail."""
    try:
        with open(metrics_path, "rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - tail_bytes))
            lines = handle.read().decode(errors="replace").splitlines()
    except OSError:
        return None
    earlier = False
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:  # the first line may be cut, the last half-written
            continue
        if not isinstance(row, dict) or "time" not in row or "step" not in row:
            continue
        if row["time"] >= drawn_at:
            return int(row["step"]) if earlier else None
        earlier = True
    return None


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"
