"""Colourisation the way the official pix2pix `colorization` model frames it: predict colour, keep lightness.

A U-Net that maps a grey picture to RGB must redraw the whole picture, and every GAN texture it adds
costs structure the grey input already had exactly. The official project's colorization model avoids
that: its U-Net sees only the CIE Lab lightness L* (scaled to [-1, 1] as L*/50 − 1) and predicts the
two chroma channels a*, b* (scaled by 1/110); the picture shown is the input's own L* with that chroma.

`LightnessKeepingColorizer` wraps such a U-Net so it takes and returns RGB in [-1, 1] like every other
generator here: the data, pix2pix's discriminator and L1 term, previews, checkpoints and the translate
page need not know about Lab. The sRGB ↔ Lab conversions (D65 white, as scikit-image's `rgb2lab`) are
written in torch so gradients flow through them, and run in float32 even under bf16 autocast.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

_RGB_TO_XYZ = torch.tensor([[0.412453, 0.357580, 0.180423],
                            [0.212671, 0.715160, 0.072169],
                            [0.019334, 0.119193, 0.950227]])
_D65_WHITE = torch.tensor([0.95047, 1.0, 1.08883])
_EPSILON = 0.008856  # (6/29)^3: below it the Lab curve is linear
_KAPPA = 7.787
_LIGHTNESS_SCALE, _CHROMA_SCALE = 50.0, 110.0  # the official colorization dataset's scaling


def _per_pixel(matrix: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Apply a 3×3 matrix to the channel vector of every pixel of (N, 3, H, W) images."""
    return torch.einsum("ij,njhw->nihw", matrix.to(images), images)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) sRGB in [0, 1] to CIE Lab: L* in [0, 100], a* and b* roughly in [−110, 110]."""
    linear = torch.where(rgb > 0.04045, ((rgb.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = _per_pixel(_RGB_TO_XYZ, linear) / _D65_WHITE.to(rgb)[None, :, None, None]
    curved = torch.where(xyz > _EPSILON, xyz.clamp(min=_EPSILON) ** (1 / 3), _KAPPA * xyz + 16 / 116)
    fx, fy, fz = curved.unbind(1)
    return torch.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], 1)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) CIE Lab to sRGB in [0, 1]; colours outside the sRGB gamut are clipped."""
    lightness, a, b = lab.unbind(1)
    fy = (lightness + 16) / 116
    curved = torch.stack([fy + a / 500, fy, fy - b / 200], 1)
    threshold = _EPSILON ** (1 / 3)
    xyz = torch.where(curved > threshold, curved ** 3, (curved - 16 / 116) / _KAPPA)
    linear = _per_pixel(torch.linalg.inv(_RGB_TO_XYZ), xyz * _D65_WHITE.to(lab)[None, :, None, None])
    linear = linear.clamp(0.0, 1.0)
    rgb = torch.where(linear > 0.0031308, 1.055 * linear.clamp(min=0.0031308) ** (1 / 2.4) - 0.055, 12.92 * linear)
    return rgb.clamp(0.0, 1.0)


def smooth_chroma(chroma: torch.Tensor, factor: int) -> torch.Tensor:
    """Average (N, 2, H, W) chroma over factor×factor blocks and upsample it bilinearly to (H, W).

    Blocks at a ragged edge average what they cover (`ceil_mode`), so any picture size works.
    """
    if factor <= 1:
        return chroma
    blocks = F.avg_pool2d(chroma, factor, ceil_mode=True)
    return F.interpolate(blocks, size=chroma.shape[-2:], mode="bilinear", align_corners=False)


def with_lightness_of(picture: torch.Tensor, coloured: torch.Tensor) -> torch.Tensor:
    """`picture`'s own L* with the chroma of `coloured`, a smaller colouring of it, enlarged bilinearly.

    Both (N, 3, H, W) sRGB in [0, 1]. Lets a colouriser work at the scale it was trained at while every
    edge of a larger picture stays sharp: chroma is smooth (see `smooth_chroma`), lightness is not.
    """
    lightness = rgb_to_lab(picture)[:, :1]
    chroma = F.interpolate(rgb_to_lab(coloured)[:, 1:], size=picture.shape[-2:], mode="bilinear", align_corners=False)
    return lab_to_rgb(torch.cat([lightness, chroma], 1))


class LightnessKeepingColorizer(nn.Module):
    """RGB in, RGB out (both in [-1, 1]); inside, a U-Net predicts a*, b* from L*, and L* is kept.

    Args:
        unet: a generator with 1 input channel (L*/50 − 1) and 2 output channels (a*/110, b*/110),
            as the official colorization model builds it (input_nc=1, output_nc=2; a U-Net by default,
            but an official file may hold a ResNet).
        chroma_downsample: k > 1 averages the predicted chroma over k×k blocks and upsamples it
            bilinearly, so the colour varies smoothly while L* keeps every edge (1: as predicted, the
            official model). No weights change, so a checkpoint loads with any k.
    """

    def __init__(self, unet: nn.Module, chroma_downsample: int = 1) -> None:
        super().__init__()
        self.unet = unet
        self.chroma_downsample = chroma_downsample

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        with torch.autocast(image.device.type, enabled=False):
            lightness = rgb_to_lab((image.float() + 1) / 2)[:, :1]
        chroma = self.unet(lightness / _LIGHTNESS_SCALE - 1)
        with torch.autocast(image.device.type, enabled=False):
            chroma = smooth_chroma(chroma.float(), self.chroma_downsample)
            lab = torch.cat([lightness, chroma * _CHROMA_SCALE], 1)
            return lab_to_rgb(lab) * 2 - 1
