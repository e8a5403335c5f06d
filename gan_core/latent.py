"""The generator's input vector: noise, plus a one-hot label (CGAN, ACGAN) or InfoGAN codes.

Every noise-to-image generator takes one flat latent vector. What it is made of is described by a
`LatentLayout`, stored in the checkpoint, so sampling, sliders and label pickers work for any
variant without knowing which one it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from gan_core.truncation import truncate_noise


@dataclass(frozen=True)
class LatentLayout:
    noise_dim: int
    num_labels: int = 0  # one-hot class label appended (conditional generators)
    categorical: int = 0  # InfoGAN categorical code: number of values
    continuous: int = 0  # InfoGAN continuous codes, uniform in [-1, 1]

    @property
    def dim(self) -> int:
        return self.noise_dim + self.num_labels + self.categorical + self.continuous

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> LatentLayout:
        return cls(**{key: int(value) for key, value in data.items()})

    def compose(
        self,
        noise: torch.Tensor,
        labels: torch.Tensor | None = None,
        category: torch.Tensor | None = None,
        continuous: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Concatenate the parts in a fixed order: noise, label one-hot, category one-hot, continuous."""
        parts = [noise]
        if self.num_labels:
            parts.append(F.one_hot(labels, self.num_labels).to(noise.dtype))
        if self.categorical:
            parts.append(F.one_hot(category, self.categorical).to(noise.dtype))
        if self.continuous:
            parts.append(continuous.to(noise.dtype))
        return torch.cat(parts, dim=1)

    def sample_parts(
        self, n: int, device: torch.device, rng: torch.Generator | None = None, truncation: float | None = None
    ) -> dict[str, torch.Tensor]:
        """Random noise, labels and codes for `n` samples (from the global RNG unless `rng` is given).

        With `truncation`, noise values beyond it are then redrawn (`gan_core.truncation`); the labels and
        codes, and every noise value inside the threshold, are the same as without."""
        parts = {"noise": torch.randn(n, self.noise_dim, device=device, generator=rng)}
        if self.num_labels:
            parts["labels"] = torch.randint(0, self.num_labels, (n,), device=device, generator=rng)
        if self.categorical:
            parts["category"] = torch.randint(0, self.categorical, (n,), device=device, generator=rng)
        if self.continuous:
            parts["continuous"] = torch.rand(n, self.continuous, device=device, generator=rng) * 2 - 1
        if truncation is not None:
            parts["noise"] = truncate_noise(parts["noise"], truncation, rng)
        return parts

    def grid_parts(self, rows: int, columns: int, seed: int, device: torch.device) -> dict[str, torch.Tensor]:
        """Fixed inputs for a preview grid: one row per label or category value when there is one."""
        rng = torch.Generator(device="cpu").manual_seed(seed)
        n = rows * columns
        parts = {k: v.to(device) for k, v in self.sample_parts(n, torch.device("cpu"), rng).items()}
        row_index = torch.arange(n, device=device) // columns
        if self.num_labels:
            parts["labels"] = row_index % self.num_labels
        if self.categorical:
            parts["category"] = row_index % self.categorical
        return parts

    def build(
        self,
        n: int,
        seed: int,
        device: torch.device,
        labels: Sequence[int] | int | None = None,
        category: int | None = None,
        continuous: Sequence[float] | None = None,
        truncation: float | None = None,
    ) -> torch.Tensor:
        """A latent batch from a seed with optional fixed label, category and continuous values (and truncated noise)."""
        rng = torch.Generator(device="cpu").manual_seed(seed)
        parts = self.sample_parts(n, torch.device("cpu"), rng, truncation)
        if self.num_labels and labels is not None:
            parts["labels"] = torch.as_tensor(labels, dtype=torch.int64).expand(n).clone()
        if self.categorical and category is not None:
            parts["category"] = torch.full((n,), int(category), dtype=torch.int64)
        if self.continuous and continuous is not None:
            values = torch.as_tensor(list(continuous), dtype=torch.float32)
            parts["continuous"] = values.expand(n, self.continuous).clone()
        return self.compose(**parts).to(device)
