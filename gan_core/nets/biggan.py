"""BigGAN's networks (Brock, Donahue & Simonyan 2019), sized for 32×32 digits on a CPU.

Generator: the noise is cut into one chunk for the 4×4 input layer and one per residual block
(hierarchical z); each block's batch norms take their gain and bias from that chunk joined to a class
embedding shared by all blocks (conditional batch norm). A self-attention block sits at the middle
resolution (16×16). Discriminator: residual down-sampling blocks, self-attention at 16×16, sum pooling,
and a projection head: the output is ψ(h) + ⟨embed(y), h⟩ (Miyato & Koyama 2018). Every convolution,
linear layer and embedding in both is spectrally normalised, as in the paper.

The generator takes the project's flat latent vector (noise, then the one-hot label), so sampling,
label pickers and interpolation between labels work as for every other conditional model; the shared
embedding is a bias-free linear map of the one-hot, which is an embedding lookup for a pure label.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from gan_core.errors import ConfigError
from gan_core.nets.dcgan import _levels


def sn_conv(channels_in: int, channels_out: int, kernel: int = 3) -> nn.Module:
    return spectral_norm(nn.Conv2d(channels_in, channels_out, kernel, padding=kernel // 2))


def sn_linear(features_in: int, features_out: int, bias: bool = True) -> nn.Module:
    return spectral_norm(nn.Linear(features_in, features_out, bias=bias))


class ConditionalBatchNorm(nn.Module):
    """Batch norm without its own affine part; gain 1 + γ(c) and bias β(c) are linear in the condition c."""

    def __init__(self, channels: int, condition_dim: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = sn_linear(condition_dim, channels, bias=False)
        self.bias = sn_linear(condition_dim, channels, bias=False)

    def forward(self, features: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        gain = 1 + self.gain(condition)[:, :, None, None]
        bias = self.bias(condition)[:, :, None, None]
        return self.norm(features) * gain + bias


class SelfAttention(nn.Module):
    """SAGAN's attention block: every position attends to all others; starts as the identity (γ = 0).

    Keys and values are taken from a 2×2-pooled map, as in the official BigGAN code, to save work.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.query = sn_conv(channels, max(channels // 8, 1), 1)
        self.key = sn_conv(channels, max(channels // 8, 1), 1)
        self.value = sn_conv(channels, max(channels // 2, 1), 1)
        self.out = sn_conv(max(channels // 2, 1), channels, 1)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = features.shape
        query = self.query(features).flatten(2)  # (N, C/8, HW)
        key = F.max_pool2d(self.key(features), 2).flatten(2)  # (N, C/8, HW/4)
        value = F.max_pool2d(self.value(features), 2).flatten(2)  # (N, C/2, HW/4)
        attention = torch.softmax(query.transpose(1, 2) @ key, dim=-1)  # (N, HW, HW/4)
        attended = (value @ attention.transpose(1, 2)).view(batch, -1, height, width)
        return features + self.gamma * self.out(attended)


class GeneratorBlock(nn.Module):
    """CBN → ReLU → ×2 upsample → conv → CBN → ReLU → conv, plus an upsampled 1×1-conv shortcut."""

    def __init__(self, channels_in: int, channels_out: int, condition_dim: int) -> None:
        super().__init__()
        self.norm1 = ConditionalBatchNorm(channels_in, condition_dim)
        self.conv1 = sn_conv(channels_in, channels_out)
        self.norm2 = ConditionalBatchNorm(channels_out, condition_dim)
        self.conv2 = sn_conv(channels_out, channels_out)
        self.shortcut = sn_conv(channels_in, channels_out, 1)

    def forward(self, features: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        hidden = F.interpolate(F.relu(self.norm1(features, condition)), scale_factor=2)
        hidden = self.conv2(F.relu(self.norm2(self.conv1(hidden), condition)))
        return hidden + self.shortcut(F.interpolate(features, scale_factor=2))


class BigGanGenerator(nn.Module):
    """latent (noise ‖ one-hot label) → image in [-1, 1].

    `width` is the channel count of the last block; blocks run 2·width → 2·width → 2·width → width for 32×32
    (the official 32×32 network keeps 4·width throughout; 2·width and width 16 are what a shared CPU affords).
    """

    def __init__(self, noise_dim: int, num_classes: int, channels: int, image_size: int, width: int = 32,
                 shared_dim: int = 32) -> None:
        super().__init__()
        levels = _levels(image_size)
        self.noise_dim, self.num_classes = noise_dim, num_classes
        self.chunks = levels + 1  # one for the input layer, one per block
        if noise_dim < self.chunks:
            raise ConfigError(f"noise_dim must be at least {self.chunks} for {image_size}×{image_size} BigGAN: one "
                              "noise chunk for the input layer and one per block")
        chunk_sizes = [len(chunk) for chunk in torch.arange(noise_dim).tensor_split(self.chunks)]
        self.chunk_sizes = chunk_sizes
        widths = [width * min(2, 2 ** (levels - i)) for i in range(levels + 1)]  # 32×32: 2w, 2w, 2w, w
        self.shared = nn.Linear(num_classes, shared_dim, bias=False)  # the shared class embedding
        self.input = sn_linear(chunk_sizes[0], widths[0] * 16)
        self.blocks = nn.ModuleList(GeneratorBlock(widths[i], widths[i + 1], shared_dim + chunk_sizes[i + 1])
                                    for i in range(levels))
        self.attention_after = max(levels // 2 + levels % 2 - 1, 0)  # the block that reaches the middle resolution
        self.attention = SelfAttention(widths[self.attention_after + 1])
        self.output = nn.Sequential(nn.BatchNorm2d(widths[-1]), nn.ReLU(), sn_conv(widths[-1], channels), nn.Tanh())
        self.top = widths[0]

    def split(self, latent: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """The noise chunks and the label part of a flat latent vector."""
        noise, label = latent[:, : self.noise_dim], latent[:, self.noise_dim:]
        return list(noise.split(self.chunk_sizes, dim=1)), label

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        chunks, label = self.split(latent)
        embedding = self.shared(label)
        features = self.input(chunks[0]).view(latent.shape[0], self.top, 4, 4)
        for index, block in enumerate(self.blocks):
            features = block(features, torch.cat([embedding, chunks[index + 1]], dim=1))
            if index == self.attention_after:
                features = self.attention(features)
        return self.output(features)


class DiscriminatorBlock(nn.Module):
    """(ReLU →) conv → ReLU → conv (→ 2×2 average pool), plus a 1×1-conv shortcut; the first block has no
    pre-activation, since its input is the image."""

    def __init__(self, channels_in: int, channels_out: int, downsample: bool, preactivation: bool) -> None:
        super().__init__()
        self.conv1 = sn_conv(channels_in, channels_out)
        self.conv2 = sn_conv(channels_out, channels_out)
        self.shortcut = sn_conv(channels_in, channels_out, 1) if channels_in != channels_out or downsample else None
        self.downsample, self.preactivation = downsample, preactivation

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        hidden = F.relu(features) if self.preactivation else features
        hidden = self.conv2(F.relu(self.conv1(hidden)))
        if self.downsample:
            hidden = F.avg_pool2d(hidden, 2)
        shortcut = features
        if self.preactivation:  # the official order: 1×1 conv, then pool (pool first for the image input)
            shortcut = self.shortcut(shortcut) if self.shortcut is not None else shortcut
            shortcut = F.avg_pool2d(shortcut, 2) if self.downsample else shortcut
        else:
            shortcut = F.avg_pool2d(shortcut, 2) if self.downsample else shortcut
            shortcut = self.shortcut(shortcut) if self.shortcut is not None else shortcut
        return hidden + shortcut


class ProjectionDiscriminator(nn.Module):
    """image, labels → {"adv": ψ(h) + ⟨embed(y), h⟩}, h the sum-pooled features of the last block.

    `width` is the first block's channel count; they run width → 2·width → 2·width → 2·width (32×32).
    """

    def __init__(self, channels: int, image_size: int, num_classes: int, width: int = 32) -> None:
        super().__init__()
        levels = _levels(image_size)
        widths = [width * min(2, 2 ** i) for i in range(levels + 1)]
        blocks: list[nn.Module] = []
        channels_in = channels
        for index in range(levels):
            blocks.append(DiscriminatorBlock(channels_in, widths[index], downsample=True, preactivation=index > 0))
            if index == 0:  # the first block halves the image to the middle resolution of 32×32
                blocks.append(SelfAttention(widths[0]))
            channels_in = widths[index]
        blocks.append(DiscriminatorBlock(channels_in, widths[levels], downsample=False, preactivation=True))
        self.blocks = nn.Sequential(*blocks)
        self.linear = sn_linear(widths[levels], 1)
        self.embedding = spectral_norm(nn.Embedding(num_classes, widths[levels]))
        self.feature_dim = widths[levels]

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return F.relu(self.blocks(images)).sum(dim=(2, 3))

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.features(images)
        projection = (self.embedding(labels) * features).sum(dim=1, keepdim=True)
        return {"adv": (self.linear(features) + projection).float()}


def orthogonal_penalty(module: nn.Module, skip: tuple[nn.Module, ...] = ()) -> torch.Tensor:
    """BigGAN's orthogonal regularisation: Σ_W ‖W Wᵀ ⊙ (1 − I)‖²_F over every weight of `module` with two or
    more dimensions (each filter a row), leaving the modules in `skip` out.

    Only the off-diagonal terms count: filters are pushed towards mutual orthogonality while their norms
    stay free (the paper's relaxation of Brock et al. 2017's ‖WᵀW − I‖²). Under spectral norm the raw
    weight (`parametrizations.weight.original`) is the one penalised, as in the official code.
    """
    skipped = {id(parameter) for part in skip for parameter in part.parameters()}
    total = None
    for parameter in module.parameters():
        if parameter.ndim < 2 or id(parameter) in skipped:
            continue
        rows = parameter.flatten(1)
        gram = rows @ rows.T
        off_diagonal = gram - torch.diag_embed(torch.diagonal(gram))
        term = off_diagonal.square().sum()
        total = term if total is None else total + term
    return total if total is not None else torch.zeros(())
