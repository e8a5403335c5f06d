"""A job's logged series for charts: grouped by what they measure, read a few rows at a time, thinned to draw."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import asdict

from gan_core.config import TrainConfig
from gan_core.training.jobs import ACTIVE, Job, JobManager

_GROUPS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("Discriminator losses", lambda name: name.startswith("D_")),
    ("Generator losses", lambda name: name.startswith(("G_", "info", "cycle_", "idt_"))),
    ("D(x) and D(G(z))", lambda name: name in ("D(x)", "D(G(z))")),
    ("Wasserstein distance and gradient penalty", lambda name: name in ("W_dist", "GP")),
    ("R1 penalty on real images", lambda name: name == "R1"),
    ("Gradient norms", lambda name: name.startswith("grad_norm")),
    ("Speed", lambda name: name == "images_per_s"),
)
HIDDEN_SERIES = ("step", "elapsed_s")


def metric_groups(names: Sequence[str], discriminator: str = "discriminator",
                  examples: str = "images") -> dict[str, list[str]]:
    """Chart title → series names, in a fixed order; unknown names go to 'Other'.

    `discriminator` is what the variant calls its second player (a WGAN's is a critic), and `examples` what its
    batches are made of (`VariantSpec.examples`: IRGAN learns from users, SeqGAN from sequences), for the titles.
    A name "part/series" belongs to one part of a model that trains several GANs at once (a pyramid level, a
    stage): each part gets a chart of its own, titled by the part, before the fixed groups.
    """
    groups: dict[str, list[str]] = {}
    parts: dict[str, list[str]] = {}
    for name in names:
        if name in HIDDEN_SERIES:
            continue
        if "/" in name:
            parts.setdefault(name.split("/", 1)[0].capitalize(), []).append(name)
            continue
        title = next((title for title, accepts in _GROUPS if accepts(name)), "Other")
        groups.setdefault(title, []).append(name)
    order = [title for title, _ in _GROUPS] + ["Other"]
    named = {"Discriminator losses": f"{discriminator.capitalize()} losses", "Speed": f"Speed ({examples}/s)"}
    fixed = {named.get(title, title): sorted(groups[title]) for title in order if title in groups}
    return {**{title: sorted(parts[title]) for title in sorted(parts)}, **fixed}


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


def metrics_csv(rows: Sequence[dict[str, float]]) -> str:
    """A job's logged rows as CSV: a column per series (step first), a row per logged step, blanks where unlogged."""
    names = sorted({name for row in rows for name in row} - {"step"})
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["step", *names], restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


def differing_settings(configs: dict[str, TrainConfig]) -> dict[str, dict[str, str]]:
    """Setting → {run name → value} for the settings that are not the same in every run (a variant's own
    settings, kept in `extra`, by their own names); what overlaid curves differ by, beside the charts."""
    flat = {name: {**{key: value for key, value in asdict(config).items() if key != "extra"}, **config.extra}
            for name, config in configs.items()}
    settings = sorted({setting for values in flat.values() for setting in values})
    return {setting: {name: "—" if setting not in values else str(values[setting]) for name, values in flat.items()}
            for setting in settings
            if len({str(values.get(setting, "—")) for values in flat.values()}) > 1}
