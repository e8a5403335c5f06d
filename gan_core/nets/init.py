"""The weight initialisation the DCGAN paper and the official pix2pix/CycleGAN code use.

"All weights were initialized from a zero-centered Normal distribution with standard deviation
0.02" (Radford et al.); the official image-to-image code's default `init_type='normal'` does the
same for convolutions and linear layers and draws batch-norm scales from N(1, 0.02). PyTorch's own
default (Kaiming-uniform) trains these networks differently, so the variants apply this instead.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrize

INIT_STD = 0.02


def _weight_of(module: nn.Module):
    """The trainable weight tensor, under a spectral-norm parametrisation when there is one."""
    if parametrize.is_parametrized(module, "weight"):
        return module.parametrizations.weight.original
    return module.weight


def normal_init_(network: nn.Module, std: float = INIT_STD) -> nn.Module:
    """Initialise `network` in place as DCGAN / pix2pix do, and return it."""
    for module in network.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(_weight_of(module), 0.0, std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.modules.batchnorm._BatchNorm) and module.affine:
            nn.init.normal_(module.weight, 1.0, std)
            nn.init.zeros_(module.bias)
    return network
