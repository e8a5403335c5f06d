"""Batched resizing of uint8 image tensors, done once when a dataset is loaded."""

import torch
import torch.nn.functional as F


def resize_uint8(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize (N, C, H, W) uint8 images to size×size with antialiasing, in chunks to bound memory."""
    if images.shape[-2:] == (size, size):
        return images.contiguous()
    chunks = []
    for start in range(0, images.shape[0], 1024):
        chunk = images[start:start + 1024].float()
        resized = F.interpolate(chunk, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        chunks.append(resized.round_().clamp_(0, 255).to(torch.uint8))
    return torch.cat(chunks)


def center_crop_square(images: torch.Tensor) -> torch.Tensor:
    """Crop (N, C, H, W) to the largest centred square."""
    height, width = images.shape[-2:]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return images[..., top:top + side, left:left + side]
