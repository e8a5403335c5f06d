"""pix2pix quality on held-out pairs: PSNR and SSIM of the translation against the ground truth, beside
two trivial baselines a useful model must beat: the input itself, and the mean training target.

    python -m benchmarks.translation_quality --checkpoint checkpoints/pix2pix-edges2photo.safetensors

The held-out pairs are the task's own test split (for the embedded tasks: crops of the held-out photo).
The generator runs on batch statistics, as the official pix2pix test script does.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from gan_core.checkpoints import load_generator
from gan_core.data import load_dataset
from gan_core.data.base import from_unit_range, to_unit_range
from gan_core.official import batch_statistics


def scores(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Mean PSNR and SSIM over images given as (N, H, W, C) floats in [0, 1]."""
    psnr = [peak_signal_noise_ratio(t, p, data_range=1.0) for p, t in zip(predicted, truth)]
    ssim = [structural_similarity(t, p, data_range=1.0, channel_axis=-1) for p, t in zip(predicted, truth)]
    return float(np.mean(psnr)), float(np.mean(ssim))


def as_images(tensor: torch.Tensor) -> np.ndarray:
    return from_unit_range(tensor).permute(0, 2, 3, 1).numpy().astype(np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True)
    args = parser.parse_args()
    model = load_generator(args.checkpoint)
    data = load_dataset(model.config.dataset, model.config.image_size, model.config.data_root)
    inputs, truth = to_unit_range(data.test_images), to_unit_range(data.test_targets)
    with torch.no_grad(), batch_statistics(model.generator):
        predicted = torch.cat([model.generator(inputs[i:i + 16]) for i in range(0, len(inputs), 16)])
    # Training targets are stored a little larger (for random crops); compare the mean at the test size.
    mean_target = torch.nn.functional.interpolate(
        to_unit_range(data.targets).mean(0, keepdim=True), size=truth.shape[-2:], mode="area")
    truth_images = as_images(truth)
    rows = [("pix2pix", as_images(predicted)), ("input itself", as_images(inputs.expand_as(truth))),
            ("mean training target", as_images(mean_target.expand_as(truth)))]
    print(f"{model.variant} on {model.config.dataset}, step {model.step}, {len(truth)} held-out pairs "
          f"at {truth.shape[-1]}×{truth.shape[-1]}\n")
    print("| prediction | PSNR (dB) | SSIM |\n|---|---|---|")
    for name, images in rows:
        psnr, ssim = scores(images, truth_images)
        print(f"| {name} | {psnr:.2f} | {ssim:.3f} |")


if __name__ == "__main__":
    main()
