"""SimGAN's two domains: labelled synthetic digits from the font renderer (A) and real mnist_5k digits (B), unpaired.

The real side is mnist_5k's 4,000 training digits with their labels dropped (SimGAN learns from unlabelled real
images); its 1,000 held-out digits stay held out, for previews and for the benchmark's classifiers. The synthetic
side is a fixed pool rendered with fixed seeds, so the data set is the same at every load; its labels are the
rendered digits, kept in `labels` for whoever trains on refined images.
"""

from __future__ import annotations

from gan_core.data.mnist_5k import load_mnist_5k, to_size
from gan_core.data.paired import PairedDataset
from gan_core.data.synthetic_digits import Renderer

TRAIN_SYNTHETIC = 20_000
HELD_OUT_SYNTHETIC = 1_000
TRAIN_SEED = 0
HELD_OUT_SEED = 1
DESCRIPTION = ("SimGAN: digits rendered from the handwriting fonts on this machine (printed fonts where none is "
               "installed; labelled) ↔ real mnist_5k digits, unpaired (offline)")


def load_synthetic_to_real(image_size: int = 28, root: str | None = None) -> PairedDataset:
    """Both domains at `image_size` (28 as rendered, 32 padded like mnist_5k, other sizes resized)."""
    renderer = Renderer()
    real = load_mnist_5k(image_size)
    train_synthetic, train_labels = renderer.sample(TRAIN_SYNTHETIC, TRAIN_SEED)
    test_synthetic, test_labels = renderer.sample(HELD_OUT_SYNTHETIC, HELD_OUT_SEED)
    return PairedDataset(
        name="synthetic_digits", images=to_size(train_synthetic, image_size), labels=train_labels,
        class_names=[str(digit) for digit in range(10)], test_images=to_size(test_synthetic, image_size),
        test_labels=test_labels, targets=real.images, test_targets=real.test_images, aligned=False,
        crop_size=image_size, description=DESCRIPTION,
        synthesised="domain A is rendered from fonts (digits varied in shape, thickness and position)")
