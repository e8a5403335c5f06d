"""The embedded default: scikit-learn's 1,797 handwritten 8×8 digits, shipped inside the package.

They are upscaled once to the training size. A fixed, stratified fifth is held out for evaluation so
metrics compare generated digits with real digits the generator never saw.
"""

from __future__ import annotations

import numpy as np
import torch

from gan_core.data.resize import resize_uint8
from gan_core.data.types import ImageDataset, labelled_split, stratified_split

HELD_OUT_FRACTION = 0.2
SPLIT_SEED = 0


def load_digits(image_size: int = 32, root: str | None = None) -> ImageDataset:
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    pixels = torch.from_numpy(bunch.images.astype(np.float32) * (255.0 / 16.0)).round().to(torch.uint8)
    images = resize_uint8(pixels.unsqueeze(1), image_size)
    labels = torch.from_numpy(bunch.target.astype(np.int64))
    train, test = stratified_split(bunch.target, HELD_OUT_FRACTION, SPLIT_SEED)
    return labelled_split("digits", images, labels, train, test)
