"""Toy 2-D target distributions. Each knows how to sample itself and, where it is a mixture of
Gaussians, its mode centres and σ, so mode coverage can be measured as in VEEGAN / PacGAN.

Sampling always takes a private `torch.Generator`, so sessions never touch the global RNG.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np
import torch

from gan_core.errors import ConfigError

MAX_CSV_POINTS = 10_000
MAX_CSV_BYTES = 2_000_000


@dataclass(frozen=True)
class Target:
    """A 2-D distribution: `kind` picks the sampler, `centres`/`sigma` describe its modes (if any).

    `points` carries the data of user-defined targets; `extent` is the half-width of the square view.
    """

    name: str
    kind: str
    extent: float
    centres: np.ndarray | None = None
    sigma: float | None = None
    points: np.ndarray | None = None

    @property
    def has_modes(self) -> bool:
        return self.centres is not None and self.sigma is not None

    def sample(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """`count` points as a (count, 2) float tensor."""
        if self.kind == "mixture":
            centres = torch.tensor(np.array(self.centres, dtype=np.float32))
            which = torch.randint(len(centres), (count,), generator=generator)
            return centres[which] + self.sigma * torch.randn(count, 2, generator=generator)
        if self.kind == "spiral":
            return _spiral(count, generator)
        if self.kind == "moons":
            return _moons(count, generator)
        raise ConfigError(f"unknown target kind {self.kind!r}")


def _spiral(count: int, generator: torch.Generator) -> torch.Tensor:
    turn = torch.sqrt(torch.rand(count, generator=generator)) * 3.0 * math.pi
    radius = turn / (3.0 * math.pi) * 2.0
    points = torch.stack([radius * torch.cos(turn), radius * torch.sin(turn)], dim=1)
    return points + 0.04 * torch.randn(count, 2, generator=generator)


def _moons(count: int, generator: torch.Generator) -> torch.Tensor:
    angle = torch.rand(count, generator=generator) * math.pi
    upper = torch.rand(count, generator=generator) < 0.5
    x = torch.where(upper, torch.cos(angle), 1.0 - torch.cos(angle))
    y = torch.where(upper, torch.sin(angle), 0.5 - torch.sin(angle))
    points = torch.stack([x - 0.5, y - 0.25], dim=1) * 1.5
    return points + 0.05 * torch.randn(count, 2, generator=generator)


def ring(modes: int = 8, radius: float = 2.0, sigma: float = 0.05) -> Target:
    """Gaussians evenly on a circle (Metz et al. 2017 use 8 modes, radius 2)."""
    angles = np.arange(modes) * 2.0 * np.pi / modes
    centres = np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)
    return Target(f"ring of {modes}", "mixture", radius * 1.5, centres.astype(np.float32), sigma)


def grid(side: int = 5, spacing: float = 2.0, sigma: float = 0.05) -> Target:
    """A side×side grid of Gaussians (VEEGAN / PacGAN use 5×5, spacing 2, σ 0.05)."""
    axis = (np.arange(side) - (side - 1) / 2.0) * spacing
    centres = np.array([(x, y) for x in axis for y in axis], dtype=np.float32)
    return Target(f"grid of {side * side}", "mixture", float(axis.max()) + spacing * 0.75, centres, sigma)


def points_target(points: np.ndarray, sigma: float = 0.05, name: str = "user points") -> Target:
    """A mixture with one small Gaussian per given point: the points are its modes."""
    points = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    if len(points) == 0:
        raise ConfigError("add at least one point: click the chart, edit the table or upload a CSV")
    if not np.isfinite(points).all():
        raise ConfigError("points must be finite numbers")
    extent = max(1.0, float(np.abs(points).max()) * 1.25 + 3 * sigma)
    return Target(name, "mixture", extent, points, sigma, points)


TARGETS: dict[str, Target] = {
    "ring8": ring(8),
    "grid25": grid(5),
    "spiral": Target("spiral", "spiral", 2.5),
    "moons": Target("two moons", "moons", 2.6),
}


def make_target(name: str, points: np.ndarray | None = None) -> Target:
    """A built-in target by key, or `"points"` for user points."""
    if name == "points":
        return points_target(points if points is not None else np.zeros((0, 2)))
    if name not in TARGETS:
        raise ConfigError(f"unknown target {name!r}; choose one of {sorted(TARGETS) + ['points']}")
    return TARGETS[name]


def parse_points_csv(data: bytes | str) -> np.ndarray:
    """Points from a CSV of x,y rows (an optional header row, extra columns ignored) as an (n, 2) array."""
    if isinstance(data, bytes):
        if len(data) > MAX_CSV_BYTES:
            raise ConfigError(f"the CSV is larger than {MAX_CSV_BYTES // 1_000_000} MB; upload fewer points")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ConfigError("the CSV is not UTF-8 text; save it as plain UTF-8 CSV") from error
    rows = [row for row in csv.reader(io.StringIO(data)) if any(cell.strip() for cell in row)]
    if not rows:
        raise ConfigError("the CSV is empty; it needs one x,y pair per row")
    has_header = not _is_numeric_row(rows[0][:2])
    if has_header:
        rows = rows[1:]
    points = []
    for number, row in enumerate(rows, start=2 if has_header else 1):
        if len(row) < 2:
            raise ConfigError(f"CSV row {number} has {len(row)} column(s); each row needs x and y")
        try:
            x, y = float(row[0]), float(row[1])
        except ValueError as error:
            raise ConfigError(f"CSV row {number}: {row[0]!r}, {row[1]!r} are not numbers") from error
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ConfigError(f"CSV row {number}: x and y must be finite numbers")
        points.append((x, y))
    if not points:
        raise ConfigError("the CSV has a header but no points; add one x,y pair per row")
    if len(points) > MAX_CSV_POINTS:
        raise ConfigError(f"the CSV has {len(points)} points; the playground takes at most {MAX_CSV_POINTS}")
    return np.asarray(points, dtype=np.float32)


def _is_numeric_row(cells: list[str]) -> bool:
    try:
        [float(cell) for cell in cells]
    except ValueError:
        return False
    return len(cells) == 2
