"""Where models and runs live and what a shared server allows, read from the environment.

Every page applies the same rules because every page reads them here, once per page run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gan_core.errors import ConfigError
from gan_core.uploads import DEFAULT_MAX_BYTES

REPO_ROOT = Path(__file__).resolve().parents[2]


def runs_dir() -> Path:
    """Where training jobs live: $GAN_STUDIO_RUNS, else ./runs."""
    return Path(os.environ.get("GAN_STUDIO_RUNS", "runs"))


def checkpoints_dir() -> Path:
    """Where shipped models live: $GAN_STUDIO_CHECKPOINTS, else the repository's checkpoints/."""
    return Path(os.environ.get("GAN_STUDIO_CHECKPOINTS", REPO_ROOT / "checkpoints"))


@dataclass(frozen=True)
class DeploymentSettings:
    """What a shared server allows, read once from the environment so every page applies the same rules.

    A laptop needs none of it; a public server must not let strangers start CPU-hungry jobs or feed it
    arbitrary weight files, and wants smaller uploads and a fair share of the queue per visitor.
    """

    public: bool = False  # GAN_STUDIO_PUBLIC=1: no training form, no official checkpoint import
    max_upload_mb: int = DEFAULT_MAX_BYTES // (1024 * 1024)  # GAN_STUDIO_MAX_UPLOAD_MB: largest picture accepted
    jobs_per_session: int | None = None  # GAN_STUDIO_JOBS_PER_SESSION: queued+running jobs one browser may hold

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DeploymentSettings:
        env = os.environ if environ is None else environ
        public = env.get("GAN_STUDIO_PUBLIC", "").strip().lower() in ("1", "true", "yes", "on")
        max_upload_mb = _positive_int(env, "GAN_STUDIO_MAX_UPLOAD_MB", cls.max_upload_mb)
        jobs = env.get("GAN_STUDIO_JOBS_PER_SESSION", "").strip()
        return cls(public, max_upload_mb, _positive_int(env, "GAN_STUDIO_JOBS_PER_SESSION", 1) if jobs else None)

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    """A misspelt limit must stop the server at start, not silently become no limit."""
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{name} must be a positive whole number; got {text!r}")
    return int(text)


def app_threads(environ: Mapping[str, str] | None = None) -> int:
    """CPU threads for the app server's own work (sampling, translating, the playground): half the cores.

    A training worker takes all cores but one, and the browser often runs on the same machine, so the
    server's small operations meet busy cores; with two threads each of them waits for a descheduled partner
    (the playground's training step took 2.3× longer on two threads than on one beside one busy process, on
    this 2-core machine). $GAN_STUDIO_APP_THREADS overrides it.
    """
    env = os.environ if environ is None else environ
    return _positive_int(env, "GAN_STUDIO_APP_THREADS", max(1, (os.cpu_count() or 2) // 2))
