"""What the playground draws, as plain numpy: one `snapshot` of a `ToyGan` per screen refresh.

Kept apart from the session so drawing never changes training (it draws from its own RNG), and
small enough (a 60×60 grid, a few hundred points) to run ten times a second on a small CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gan_core.losses import generator_loss
from gan_core.toy2d.metrics import ModeMetrics, mode_metrics
from gan_core.toy2d.model import ToyGan

NOISE_SPAN = 2.0  # the noise grid covers ±2 standard deviations


@dataclass(frozen=True)
class View:
    extent: float
    real: np.ndarray
    fake: np.ndarray
    heat_axis: np.ndarray
    heat: np.ndarray
    heat_is_probability: bool
    arrow_tips: np.ndarray
    noise_lines: list[np.ndarray]
    metrics: ModeMetrics | None
    steps: int


def snapshot(gan: ToyGan, grid_size: int = 60, points: int = 400, seed: int = 0) -> View:
    """Real and fake points, D on a grid, G's gradient arrows and the warped noise grid."""
    rng = torch.Generator().manual_seed(seed + gan.steps)
    extent = gan.target.extent
    with torch.no_grad():
        real = gan.target.sample(points, rng)
        noise = torch.randn(points, gan.config.noise_dim, generator=rng)
        fake = gan.generator(noise)
        axis = torch.linspace(-extent, extent, grid_size)
        grid_y, grid_x = torch.meshgrid(axis, axis, indexing="ij")
        scores = gan.discriminator(torch.stack([grid_x.ravel(), grid_y.ravel()], dim=1)).view(grid_size, grid_size)
        probability = scores_are_probabilities(gan)
        heat = torch.sigmoid(scores) if probability else scores
        noise_lines = _noise_grid(gan.config.noise_dim)  # one forward pass for all lines, then cut apart
        bent = gan.generator(torch.cat(noise_lines)).numpy()
        lines = np.split(bent, np.cumsum([len(line) for line in noise_lines])[:-1])
    tips = fake.numpy() + _arrows(gan, fake, 0.08 * extent)
    metrics = None
    if gan.target.has_modes:
        metrics = mode_metrics(fake.numpy(), gan.target.centres, gan.target.sigma, threshold=max(1, points * 20 // 2500))
    return View(extent, real.numpy(), fake.numpy(), axis.numpy(), heat.numpy(), probability, tips, lines, metrics, gan.steps)


def scores_are_probabilities(gan: ToyGan) -> bool:
    """Whether D's surface is a probability (the GAN objectives, through a sigmoid) or a critic's raw score."""
    return gan.loss_name in ("minimax", "nonsaturating")


def _arrows(gan: ToyGan, fake: torch.Tensor, longest: float) -> np.ndarray:
    """−∇ₓ G's loss at each fake point: where the discriminator pushes it. Scaled so the longest is `longest`."""
    points = fake.clone().requires_grad_(True)
    loss = generator_loss(gan.loss_name, gan.discriminator(points))
    (gradient,) = torch.autograd.grad(loss, points)
    push = -gradient.numpy()
    largest = float(np.linalg.norm(push, axis=1).max())
    return push * (longest / largest) if largest > 0 else push


def _noise_grid(noise_dim: int, lines: int = 9, resolution: int = 40) -> list[torch.Tensor]:
    """Lines of noise space (a 1-D segment, or a 2-D grid on the first two coordinates, the rest zero)."""
    values = torch.linspace(-NOISE_SPAN, NOISE_SPAN, resolution)
    if noise_dim == 1:
        return [values[:, None]]
    result = []
    for level in torch.linspace(-NOISE_SPAN, NOISE_SPAN, lines):
        for first, second in ((values, torch.full_like(values, level)), (torch.full_like(values, level), values)):
            line = torch.zeros(resolution, noise_dim)
            line[:, 0], line[:, 1] = first, second
            result.append(line)
    return result
