"""What an InfoGAN's codes turned out to mean, measured rather than assumed.

InfoGAN learns its codes without labels, so which digit category value 3 draws, or whether continuous code
1 is slant or width, is an accident of one training run. The InfoGAN page says it for the model shown:
the matching judge reads the digits each category value draws, and two fixed image measures (slant and
width, from the ink's second moments) read what each continuous code moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gan_core.checkpoints import LoadedGenerator
from gan_core.data.types import from_unit_range
from gan_core.inference import generate_from_latent
from gan_core.judge import JUDGED_DATASETS, Judge, load_judge

SWEEP_ENDS = (-2.0, 2.0)
"""The continuous codes are drawn from U(-1, 1) in training; the page sweeps them over [-2, 2]."""


@dataclass(frozen=True)
class CategoryReading:
    """What one category value draws: the judge's most frequent digit and the share of samples that are it."""

    value: int
    digit: int
    share: float

    def describe(self, class_names: list[str]) -> str:
        return f"draws {class_names[self.digit]} ({self.share:.0%})"


@dataclass(frozen=True)
class CodeReading:
    """How far sweeping one continuous code over SWEEP_ENDS moves each measure, in units of the measure's
    spread over the model's own samples (so slant in degrees and width in pixels can be compared)."""

    index: int
    slant: float
    width: float

    @property
    def controls(self) -> str:
        """The measure this code moves most, when it moves it noticeably (half a spread or more)."""
        if max(abs(self.slant), abs(self.width)) < 0.5:
            return "no clear slant or width"
        return "slant" if abs(self.slant) >= abs(self.width) else "width"


def slant_and_width(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image: slant (the ink's shear, x-shift per row, positive leaning right) and width (two standard
    deviations of the ink's columns, in pixels); images (N, 1, H, W) in [-1, 1], ink bright as in MNIST."""
    ink = from_unit_range(images.float())[:, 0]
    height, width = ink.shape[-2:]
    rows = torch.arange(height, dtype=ink.dtype)[:, None]
    columns = torch.arange(width, dtype=ink.dtype)[None, :]
    mass = ink.sum((1, 2)).clamp_min(1e-6)
    mean_row = (ink * rows).sum((1, 2)) / mass
    mean_column = (ink * columns).sum((1, 2)) / mass
    row_offset = rows - mean_row[:, None, None]
    column_offset = columns - mean_column[:, None, None]
    row_variance = (ink * row_offset**2).sum((1, 2)) / mass
    covariance = (ink * row_offset * column_offset).sum((1, 2)) / mass
    column_variance = (ink * column_offset**2).sum((1, 2)) / mass
    # Rows grow downwards, so a digit leaning right has its top (small rows) to the right: negative covariance.
    slant = -covariance / row_variance.clamp_min(1e-6)
    return slant, 2 * column_variance.clamp_min(0).sqrt()


@torch.inference_mode()
def read_categories(model: LoadedGenerator, judge: Judge, per_value: int = 40, seed: int = 0) -> list[CategoryReading]:
    """For each category value: `per_value` samples (random noise and continuous codes), read by the judge."""
    layout = model.layout
    rng = torch.Generator().manual_seed(seed)
    readings = []
    for value in range(layout.categorical):
        parts = layout.sample_parts(per_value, torch.device("cpu"), rng)
        parts["category"] = torch.full((per_value,), value, dtype=torch.long)
        predicted, _ = judge.predict(generate_from_latent(model, layout.compose(**parts)))
        counts = torch.bincount(predicted, minlength=10)
        readings.append(CategoryReading(value, int(counts.argmax()), float(counts.max()) / per_value))
    return readings


@torch.inference_mode()
def read_continuous_codes(model: LoadedGenerator, samples: int = 200, seed: int = 0) -> list[CodeReading]:
    """For each continuous code: the mean change of slant and width from one end of the sweep to the other,
    over the same noise and category for both ends, the others codes held at 0."""
    layout = model.layout
    rng = torch.Generator().manual_seed(seed)
    parts = layout.sample_parts(samples, torch.device("cpu"), rng)
    parts["continuous"] = torch.zeros(samples, layout.continuous)
    slant_spread, width_spread = (measure.std().clamp_min(1e-6)
                                  for measure in slant_and_width(generate_from_latent(model, layout.compose(**parts))))
    readings = []
    for index in range(layout.continuous):
        ends = []
        for value in SWEEP_ENDS:
            codes = parts["continuous"].clone()
            codes[:, index] = value
            ends.append(slant_and_width(generate_from_latent(model, layout.compose(**{**parts, "continuous": codes}))))
        (slant_low, width_low), (slant_high, width_high) = ends
        readings.append(CodeReading(index, float((slant_high - slant_low).mean() / slant_spread),
                                    float((width_high - width_low).mean() / width_spread)))
    return readings


@dataclass(frozen=True)
class ModelCodes:
    """Everything the page says about a model's codes; `categories` is None where no judge reads its data."""

    categories: list[CategoryReading] | None
    codes: list[CodeReading]


def read_model_codes(model: LoadedGenerator) -> ModelCodes:
    """The category readings (by the judge of the model's own data set, when one is shipped) and code readings."""
    categories = None
    if model.layout.categorical and model.dataset.name in JUDGED_DATASETS:
        categories = read_categories(model, load_judge(dataset=model.dataset.name))
    return ModelCodes(categories, read_continuous_codes(model) if model.layout.continuous else [])
