"""What the pages need from the engine, kept free of Streamlit so it can be tested and reused.

Where models and runs live, which trained generators can drive which page, how logged series are
grouped into charts, and small sampling helpers that return finished pictures.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from gan_core.checkpoints import LoadedGenerator, load_generator, read_metadata
from gan_core.data.archive import ZipLimits, extract_image_zip
from gan_core.errors import CheckpointError, ConfigError
from gan_core.grids import png_bytes, to_pil
from gan_core.inference import generate, generate_from_latent, interpolate_noise, traversal_latents
from gan_core.registry import VariantSpec, get_variant, variants
from gan_core.training.jobs import ACTIVE, Job, JobManager
from gan_core.translation import example_picture, load_translator, translate
from gan_core.uploads import DEFAULT_MAX_BYTES

REPO_ROOT = Path(__file__).resolve().parents[1]


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


def job_manager() -> JobManager:
    """The job store; $GAN_STUDIO_MAX_JOBS jobs may train at once (default 1: a laptop has few cores)."""
    return JobManager(runs_dir(), max_concurrent=int(os.environ.get("GAN_STUDIO_MAX_JOBS", "1")),
                      jobs_per_session=DeploymentSettings.from_env().jobs_per_session)


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


@dataclass(frozen=True)
class ModelChoice:
    """A generator a page can load: a shipped checkpoint or a finished run's."""

    label: str
    path: Path
    variant: str
    modified: float  # file time, so a cache notices a replaced file


def _choice(path: Path, label: str) -> ModelChoice | None:
    try:
        variant = read_metadata(path)["variant"]
        get_variant(variant)
    except (CheckpointError, KeyError, Exception):  # a foreign or half-written file is simply not offered
        return None
    return ModelChoice(label, path, variant, path.stat().st_mtime)


def available_models(accepts: Callable[[VariantSpec], bool] = lambda spec: True) -> list[ModelChoice]:
    """Shipped models first, then finished runs newest first, keeping those whose variant `accepts`."""
    found: list[ModelChoice | None] = []
    shipped = checkpoints_dir()
    if shipped.is_dir():
        found += [_choice(path, f"{path.stem} (shipped)") for path in sorted(shipped.glob("*.safetensors"))]
    if runs_dir().is_dir():
        jobs = job_manager()
        for job in jobs.list_jobs():
            path = jobs.generator_path(job.id)
            if job.status == "finished" and path is not None:
                found.append(_choice(path, f"{job.name} · {job.id} (trained here)"))
    return [choice for choice in found if choice is not None and accepts(get_variant(choice.variant))]


def models_with_codes() -> list[ModelChoice]:
    return available_models(lambda spec: spec.has_codes)


def conditional_models() -> list[ModelChoice]:
    return available_models(lambda spec: spec.conditional)


def shipped_model(variant: str) -> Path | None:
    """The shipped checkpoint of `variant` (checkpoints/<variant>-*.safetensors), if there is one.

    The one trained on the variant's default data set comes first (pix2pix: the sketch task, which a
    new user's Train form also starts with), then the others in name order.
    """
    matches = sorted(checkpoints_dir().glob(f"{variant}-*.safetensors"))
    default = checkpoints_dir() / f"{variant}-{get_variant(variant).default_config().dataset}.safetensors"
    return default if default in matches else (matches[0] if matches else None)


def load_model(path: str, modified: float = 0.0) -> LoadedGenerator:
    """Load a generator on the CPU; `modified` is only there to key a cache."""
    return load_generator(Path(path))


# --- pictures ---------------------------------------------------------------------------
def sample_png(model: LoadedGenerator, n: int, seed: int, columns: int, scale: int = 2, **choices) -> bytes:
    """PNG bytes of `n` samples (choices: labels=, category=, continuous=)."""
    return png_bytes(to_pil(generate(model, n, seed, **choices), columns=columns, scale=scale))


def traversal_png(model: LoadedGenerator, seed: int, code_index: int, values: Sequence[float],
                  base_continuous: Sequence[float] | None = None, scale: int = 2) -> bytes:
    """Rows are categorical values, columns sweep one continuous code."""
    latents = traversal_latents(model.layout, seed, code_index, values, base_continuous)
    return png_bytes(to_pil(generate_from_latent(model, latents), columns=len(values), scale=scale))


def interpolation_png(model: LoadedGenerator, seed_a: int, seed_b: int, steps: int,
                      label_a: int | None = None, label_b: int | None = None, scale: int = 2) -> bytes:
    latents = interpolate_noise(model.layout, seed_a, seed_b, steps, label_a, label_b)
    return png_bytes(to_pil(generate_from_latent(model, latents), columns=steps, scale=scale))


def translation_preview_png(path: Path, max_side: int = 192) -> bytes:
    """PNG bytes of a translator's work on the embedded example photo: input, output (and the way back)."""
    translation = translate(load_translator(path), example_picture(), max_side=max_side)
    pictures = [translation.source, translation.output]
    if translation.reconstruction is not None:
        pictures.append(translation.reconstruction)
    return png_bytes(side_by_side(pictures))


def side_by_side(pictures: Sequence[Image.Image], gap: int = 4) -> Image.Image:
    """One RGB picture with `pictures` in a row on white, top-aligned."""
    width = sum(picture.width for picture in pictures) + gap * (len(pictures) - 1)
    row = Image.new("RGB", (width, max(picture.height for picture in pictures)), "white")
    left = 0
    for picture in pictures:
        row.paste(picture.convert("RGB"), (left, 0))
        left += picture.width + gap
    return row


def read_png(path: Path) -> Image.Image:
    with Image.open(path) as picture:
        return picture.convert("RGB")


# --- charts -----------------------------------------------------------------------------
_GROUPS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("Discriminator losses", lambda name: name.startswith("D_")),
    ("Generator losses", lambda name: name.startswith(("G_", "info", "cycle_", "idt_"))),
    ("D(x) and D(G(z))", lambda name: name in ("D(x)", "D(G(z))")),
    ("Wasserstein distance and gradient penalty", lambda name: name in ("W_dist", "GP")),
    ("Gradient norms", lambda name: name.startswith("grad_norm")),
    ("Speed (images/s)", lambda name: name == "images_per_s"),
)
HIDDEN_SERIES = ("step", "elapsed_s")


def metric_groups(names: Sequence[str]) -> dict[str, list[str]]:
    """Chart title → series names, in a fixed order; unknown names go to 'Other'."""
    groups: dict[str, list[str]] = {}
    for name in names:
        if name in HIDDEN_SERIES:
            continue
        title = next((title for title, accepts in _GROUPS if accepts(name)), "Other")
        groups.setdefault(title, []).append(name)
    order = [title for title, _ in _GROUPS] + ["Other"]
    return {title: sorted(groups[title]) for title in order if title in groups}


def smooth(values: Sequence[float], weight: float) -> list[float]:
    """TensorBoard-style exponential moving average; weight 0 leaves the series as it is."""
    smoothed, last = [], None
    for value in values:
        last = value if last is None else weight * last + (1 - weight) * value
        smoothed.append(last)
    return smoothed


class MetricHistory:
    """One job's logged series, read from the job store a few new rows at a time.

    The first `update` reads every row; later ones ask only for the rows after the last step but one, so
    the last row read comes back as a check. A resume drops the rows logged after its checkpoint and logs
    them again, so when the job was claimed again (a new `started`) or the re-read row is gone or
    different, everything is read afresh. A job that had already ended when it was last read is not read
    again until it is started again. `version` changes whenever the series do: it keys what is drawn.
    """

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.version = 0
        self._clear(None)

    def _clear(self, started: float | None) -> None:
        self.started = started
        self.complete = False
        self.steps: dict[str, list[int]] = {}
        self.values: dict[str, list[float]] = {}
        self._tail: list[dict[str, float]] = []  # the last two rows read
        self._smoothed: dict[str, tuple[float, list[float]]] = {}

    @property
    def names(self) -> list[str]:
        return list(self.values)

    def update(self, jobs: JobManager, job: Job) -> bool:
        """Read what `job` logged since the last call; True when the series changed."""
        ended = job.status not in ACTIVE  # read before the rows: an ended job has logged its last row
        if self.complete and ended and job.started == self.started:
            return False
        if job.started == self.started and self._tail:
            since = self._tail[-2]["step"] if len(self._tail) > 1 else 0
            rows = jobs.metrics(self.job_id, since_step=since)
            if rows and rows[0] == self._tail[-1]:
                self._append(rows[1:])
                self.complete = ended
                if len(rows) > 1:
                    self.version += 1
                return len(rows) > 1
        had_rows = bool(self._tail)
        self._clear(job.started)
        rows = jobs.metrics(self.job_id)
        self._append(rows)
        self.complete = ended
        if rows or had_rows:
            self.version += 1
        return bool(rows or had_rows)

    def _append(self, rows: list[dict[str, float]]) -> None:
        for row in rows:
            step = int(row["step"])
            for name, value in row.items():
                if name != "step":
                    self.steps.setdefault(name, []).append(step)
                    self.values.setdefault(name, []).append(value)
        self._tail = (self._tail + rows)[-2:]

    def smoothed(self, name: str, weight: float) -> list[float]:
        """`smooth(values, weight)` of one series, extended rather than recomputed as rows arrive."""
        cached_weight, done = self._smoothed.get(name, (weight, []))
        if cached_weight != weight:
            done = []
        values = self.values.get(name, [])
        last = done[-1] if done else None
        for value in values[len(done):]:
            last = value if last is None else weight * last + (1 - weight) * value
            done.append(last)
        self._smoothed[name] = (weight, done)
        return done


# A chart draws at most about this many points a series: more cannot be told apart at its width, and each
# point is sent to the browser on every refresh.
MAX_CHART_POINTS = 1000


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


def display_indices(count: int, limit: int = MAX_CHART_POINTS) -> list[int]:
    """Evenly spread indices of at most `limit` + 1 of `count` points, the last always among them.

    The stride is a power of two, so as a series grows the points drawn stay the same ones until the
    stride doubles (the curve does not shimmer from refresh to refresh)."""
    stride = 1
    while count > stride * limit:
        stride *= 2
    indices = list(range(0, count, stride))
    if count and indices[-1] != count - 1:
        indices.append(count - 1)
    return indices


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def all_variants() -> dict[str, VariantSpec]:
    return variants()
