"""Using a trained SimGAN refiner: render synthetic digits, refine them, and measure what refinement kept.

The Refine page and `benchmarks/simgan_utility.py` both come through here, so the page shows exactly what the
benchmark measured: the same renderer, the same refiner call, the same difference image and label check.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from gan_core.checkpoints import load_generator
from gan_core.data.mnist_5k import to_size
from gan_core.data.synthetic_digits import DigitStyles, Renderer
from gan_core.data.types import from_unit_range, to_unit_range
from gan_core.errors import CheckpointError
from gan_core.grids import png_bytes, to_pil
from gan_core.judge import JUDGE_IMAGE_SIZE, Judge

REFINE_BATCH = 1000


@dataclass
class RefinedBatch:
    """Synthetic digits (uint8 at the refiner's size), their labels and refinements (float in [-1, 1])."""

    synthetic: torch.Tensor
    labels: torch.Tensor
    refined: torch.Tensor

    @property
    def difference(self) -> torch.Tensor:
        """|refined - synthetic| in [-1, 1] images: black where refinement changed nothing."""
        return (self.refined - to_unit_range(self.synthetic)).abs().sub(1.0).clamp(-1.0, 1.0)

    def mean_l1(self) -> float:
        """Mean absolute change per pixel, on the [0, 1] pixel scale (0: untouched, 1: every pixel inverted)."""
        return float((from_unit_range(self.refined) - self.synthetic.float() / 255.0).abs().mean())


def refiner_size(refiner: nn.Module, image_shape: tuple[int, int, int]) -> int:
    """The side the refiner was trained at (28 or 32 for the digit refiners), checked to be square and grey."""
    channels, height, width = image_shape
    if channels != 1 or height != width:
        raise CheckpointError(f"a digit refiner works on square grey images; this one was trained on {image_shape}")
    return height


@torch.no_grad()  # not inference_mode: classifiers train on the refined tensors
def refine(refiner: nn.Module, synthetic: torch.Tensor) -> torch.Tensor:
    """Refined versions, float in [-1, 1], of uint8 (N, 1, H, W) synthetic images, in batches."""
    parts = [refiner(to_unit_range(synthetic[start:start + REFINE_BATCH])) for start in
             range(0, synthetic.shape[0], REFINE_BATCH)]
    return torch.cat(parts) if parts else torch.zeros(synthetic.shape)


def refine_styles(refiner: nn.Module, size: int, renderer: Renderer, styles: DigitStyles) -> RefinedBatch:
    """Render `styles`, bring them to the refiner's size (28 as rendered, 32 padded) and refine them."""
    synthetic = to_size(renderer.render(styles), size)
    return RefinedBatch(synthetic, styles.digit.clone(), refine(refiner, synthetic))


def refine_random(refiner: nn.Module, size: int, renderer: Renderer, count: int, seed: int) -> RefinedBatch:
    """`count` random synthetic digits (the renderer's `seed`) and their refinements."""
    return refine_styles(refiner, size, renderer, renderer.random_styles(count, torch.Generator().manual_seed(seed)))


def judge_agreement(judge: Judge, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of images in [-1, 1] that the judge reads as their label; 28-px digits are padded to 32 as the
    judge's mnist_5k training digits were."""
    if images.shape[-1] < JUDGE_IMAGE_SIZE:
        margin = (JUDGE_IMAGE_SIZE - images.shape[-1]) // 2
        images = F.pad(images, (margin, margin, margin, margin), value=-1.0)
    predicted, _ = judge.predict(images)
    return float((predicted == labels).float().mean())


def pairs_picture(batch: RefinedBatch, columns: int = 4, scale: int = 3, with_difference: bool = False) -> Image.Image:
    """A grid of synthetic → refined (→ difference) groups, `columns` groups a row."""
    parts = [to_unit_range(batch.synthetic), batch.refined] + ([batch.difference] if with_difference else [])
    groups = torch.stack(parts, 1).flatten(0, 1)
    return to_pil(groups, columns=columns * len(parts), scale=scale)


def refinement_preview_png(path: Path, count: int = 16, seed: int = 0) -> bytes:
    """PNG bytes of `count` random synthetic digits beside their refinements by the refiner at `path`."""
    loaded = load_generator(path)
    size = refiner_size(loaded.generator, loaded.dataset.image_shape)
    return png_bytes(pairs_picture(refine_random(loaded.generator, size, Renderer(), count, seed), columns=8, scale=2))


def arrays_npz(batch: RefinedBatch) -> bytes:
    """The batch as arrays a training script can read: uint8 synthetic and refined digits and int64 labels."""
    buffer = io.BytesIO()
    refined = from_unit_range(batch.refined).mul(255).round().to(torch.uint8)
    np.savez_compressed(buffer, synthetic=batch.synthetic.numpy(), refined=refined.numpy(), labels=batch.labels.numpy())
    return buffer.getvalue()
