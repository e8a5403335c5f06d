"""The image-to-image networks of the official CycleGAN/pix2pix project, laid out key for key.

Users bring generators trained with that project, so these modules keep its exact layer order:
every network is one `nn.Sequential` named `model`, so a released `state_dict` loads unchanged.
That fixes a few choices that would otherwise look odd:

- convolutions followed by a norm carry a bias only with instance norm (batch norm has its own
  shift; with no norm at all the official networks also leave the bias out);
- instance norm is `InstanceNorm2d(affine=False, track_running_stats=False)`: it owns no keys;
- norm-free slots keep an `nn.Identity` so the `model.N` indices do not shift.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

Norm = Literal["batch", "instance", "none"]
NormFactory = Callable[[int], nn.Module]


def norm_layer_factory(norm: Norm) -> NormFactory:
    """A function `channels -> norm module` for the official norm names.

    Args:
        norm: "batch" (learned scale and shift, running statistics), "instance" (per-image
            statistics, no parameters, as CycleGAN uses) or "none" (an identity placeholder).
    """
    if norm == "batch":
        return lambda channels: nn.BatchNorm2d(channels, affine=True, track_running_stats=True)
    if norm == "instance":
        return lambda channels: nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if norm == "none":
        return lambda channels: nn.Identity()
    raise ValueError(f"norm must be 'batch', 'instance' or 'none'; got {norm!r}")


def conv_bias(norm: Norm) -> bool:
    """Whether a convolution followed by `norm` has a bias (only instance norm, as in the official nets)."""
    return norm == "instance"


class ResnetBlock(nn.Module):
    """Two reflect-padded 3×3 convolutions added back onto their input; the channel count is kept.

    Args:
        channels: width of the input and output.
        norm: norm name, see `norm_layer_factory`.
        dropout: put Dropout(0.5) between the two convolutions (this shifts the second conv's index).
    """

    def __init__(self, channels: int, norm: Norm, dropout: bool) -> None:
        super().__init__()
        make_norm, bias = norm_layer_factory(norm), conv_bias(norm)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, padding=0, bias=bias),
            make_norm(channels),
            nn.ReLU(True),
        ]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, padding=0, bias=bias), make_norm(channels)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """CycleGAN's generator: 7×7 stem, two stride-2 downsamplings, residual blocks, two upsamplings.

    Any input whose height and width are multiples of 4 comes back at the same size, in [-1, 1].

    Args:
        input_nc: channels of the input image.
        output_nc: channels of the output image.
        ngf: width of the first convolution; the residual blocks run at 4·ngf.
        norm: norm name, see `norm_layer_factory` (CycleGAN uses "instance").
        dropout: Dropout(0.5) inside every residual block (off in CycleGAN).
        n_blocks: number of residual blocks (9 for 256-pixel images, 6 for 128).
    """

    def __init__(
        self, input_nc: int, output_nc: int, ngf: int = 64, norm: Norm = "instance",
        dropout: bool = False, n_blocks: int = 9,
    ) -> None:
        super().__init__()
        if n_blocks < 0:
            raise ValueError(f"n_blocks must be at least 0; got {n_blocks}")
        make_norm, bias = norm_layer_factory(norm), conv_bias(norm)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_nc, ngf, 7, padding=0, bias=bias),
            make_norm(ngf),
            nn.ReLU(True),
        ]
        width = ngf
        for _ in range(2):
            layers += [
                nn.Conv2d(width, width * 2, 3, stride=2, padding=1, bias=bias),
                make_norm(width * 2),
                nn.ReLU(True),
            ]
            width *= 2
        layers += [ResnetBlock(width, norm, dropout) for _ in range(n_blocks)]
        for _ in range(2):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
                make_norm(width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, output_nc, 7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model(image)


class UnetSkipBlock(nn.Module):
    """One level of the U-Net: downsample, run the inner level, upsample, then join with a skip.

    Inner levels return `cat([skip, up], dim=1)`, doubling the channels their parent upsamples from.
    The official block activates its input in place, so its skip holds LeakyReLU(x) rather than x;
    the parent applies ReLU right after the concatenation and ReLU(LeakyReLU(x)) == ReLU(x), so
    keeping the raw input (and an out-of-place activation) gives the same outputs and gradients.

    Args:
        outer_nc: channels this level returns to its parent (before the skip concatenation).
        inner_nc: channels after this level's downsampling convolution.
        input_nc: channels coming in, when they differ from `outer_nc` (only the outermost level).
        submodule: the next inner level, or None for the innermost level.
        position: "outermost" (no norm, no activation on its input, Tanh out, no skip),
            "innermost" (no submodule, no norm after its downsampling) or "middle".
        norm: norm name, see `norm_layer_factory`.
        dropout: Dropout(0.5) after the upsampling (pix2pix uses it on the deepest 8·ngf levels).
    """

    def __init__(
        self, outer_nc: int, inner_nc: int, input_nc: int | None = None, submodule: nn.Module | None = None,
        position: Literal["outermost", "middle", "innermost"] = "middle", norm: Norm = "batch",
        dropout: bool = False,
    ) -> None:
        super().__init__()
        make_norm, bias = norm_layer_factory(norm), conv_bias(norm)
        input_nc = outer_nc if input_nc is None else input_nc
        self.outermost = position == "outermost"
        down_conv = nn.Conv2d(input_nc, inner_nc, 4, stride=2, padding=1, bias=bias)
        if position == "outermost":
            layers: list[nn.Module] = [
                down_conv, submodule,
                nn.ReLU(True), nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1), nn.Tanh(),
            ]
        elif position == "innermost":
            layers = [
                nn.LeakyReLU(0.2), down_conv,
                nn.ReLU(True), nn.ConvTranspose2d(inner_nc, outer_nc, 4, stride=2, padding=1, bias=bias),
                make_norm(outer_nc),
            ]
        else:
            layers = [
                nn.LeakyReLU(0.2), down_conv, make_norm(inner_nc), submodule,
                nn.ReLU(True), nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1, bias=bias),
                make_norm(outer_nc),
            ]
            if dropout:
                layers.append(nn.Dropout(0.5))
        if (submodule is None) != (position == "innermost"):
            raise ValueError("only the innermost U-Net level has no submodule")
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


def _unet_level(
    outer_nc: int, inner_nc: int, submodule: nn.Module | None, norm: Norm, dropout: bool = False,
) -> UnetSkipBlock:
    position = "innermost" if submodule is None else "middle"
    return UnetSkipBlock(outer_nc, inner_nc, submodule=submodule, position=position, norm=norm, dropout=dropout)


class UnetGenerator(nn.Module):
    """pix2pix's generator: `num_downs` stride-2 levels with skip connections between mirror levels.

    Height and width must be multiples of 2^num_downs (256 for the default unet_256 with 8 downs).

    Args:
        input_nc: channels of the input image.
        output_nc: channels of the output image.
        num_downs: number of downsamplings, at least 5; channels run ngf, 2ngf, 4ngf, then 8ngf.
        ngf: width of the outermost convolution.
        norm: norm name, see `norm_layer_factory` (pix2pix uses "batch").
        dropout: Dropout(0.5) in the num_downs − 5 extra 8·ngf levels (pix2pix's only noise source).
    """

    def __init__(
        self, input_nc: int, output_nc: int, num_downs: int = 8, ngf: int = 64, norm: Norm = "batch",
        dropout: bool = False,
    ) -> None:
        super().__init__()
        if num_downs < 5:
            raise ValueError(f"num_downs must be at least 5; got {num_downs}")
        level = _unet_level(ngf * 8, ngf * 8, None, norm)
        for _ in range(num_downs - 5):
            level = _unet_level(ngf * 8, ngf * 8, level, norm, dropout)
        for outer, inner in ((ngf * 4, ngf * 8), (ngf * 2, ngf * 4), (ngf, ngf * 2)):
            level = _unet_level(outer, inner, level, norm)
        self.model = UnetSkipBlock(output_nc, ngf, input_nc=input_nc, submodule=level, position="outermost", norm=norm)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model(image)


class NLayerDiscriminator(nn.Module):
    """PatchGAN: a fully convolutional critic that scores overlapping patches, one logit each.

    With 3 layers each logit sees a 70×70 patch; a 256×256 input gives a 30×30 map.

    Args:
        input_nc: channels of what is judged (pix2pix feeds the input and output side by side: 6).
        ndf: width of the first convolution; widths double per layer up to 8·ndf.
        n_layers: number of stride-2 convolutions.
        norm: norm name, see `norm_layer_factory`.
    """

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 3, norm: Norm = "batch") -> None:
        super().__init__()
        make_norm, bias = norm_layer_factory(norm), conv_bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        width = ndf
        for n in range(1, n_layers + 1):
            next_width = ndf * min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(width, next_width, 4, stride=stride, padding=1, bias=bias),
                make_norm(next_width),
                nn.LeakyReLU(0.2, True),
            ]
            width = next_width
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model(image)


@dataclass(frozen=True)
class GeneratorArch:
    """A translator's generator architecture: ours know it from their config (`ImageToImageGan.generator_arch`),
    an official file's is read back from its keys (`official.infer_official_arch`).

    Dropout owns no weights; in an official U-Net it also leaves the keys unchanged, so it cannot be seen
    there and is taken as off. In the ResNet it shifts a key index and is read back.
    """

    kind: Literal["resnet", "unet"]
    ngf: int
    norm: Norm
    input_nc: int
    output_nc: int
    n_blocks: int | None = None
    num_downs: int | None = None
    dropout: bool = False

    def build(self) -> nn.Module:
        """A freshly initialised network of this architecture."""
        if self.kind == "resnet":
            return ResnetGenerator(self.input_nc, self.output_nc, self.ngf, self.norm, self.dropout, self.n_blocks)
        return UnetGenerator(self.input_nc, self.output_nc, self.num_downs, self.ngf, self.norm, self.dropout)

    @property
    def size_multiple(self) -> int:
        """Height and width must be multiples of this for the output to keep the input's size."""
        return 4 if self.kind == "resnet" else 2**self.num_downs

    def describe(self) -> str:
        """One line for people, e.g. 'ResNet generator, 9 blocks, ngf 64, instance norm, 3→3 channels'."""
        if self.kind == "resnet":
            body = f"ResNet generator, {self.n_blocks} blocks"
        else:
            body = f"U-Net generator, {self.num_downs} downsamplings"
        dropout = ", dropout" if self.dropout else ""
        return f"{body}, ngf {self.ngf}, {self.norm} norm{dropout}, {self.input_nc}→{self.output_nc} channels"


@contextmanager
def batch_statistics(network: nn.Module) -> Iterator[None]:
    """Run batch norm on the batch's own statistics, leaving the stored running statistics untouched.

    The official test script runs pix2pix's U-Net in train mode unless `--eval` is given, so released
    weights were judged with it. Only the norm layers switch here: dropout stays as the network's mode
    says (see `sampling_dropout`). Restoring the buffers keeps repeated translations independent.
    """
    norms = [module for module in network.modules() if isinstance(module, nn.modules.batchnorm._BatchNorm)]
    saved = [{name: buffer.clone() for name, buffer in norm.named_buffers()} for norm in norms]
    modes = [norm.training for norm in norms]
    try:
        for norm in norms:
            norm.train()
        yield
    finally:
        for norm, buffers, mode in zip(norms, saved, modes, strict=True):
            for name, value in buffers.items():
                getattr(norm, name).copy_(value)
            norm.train(mode)


def has_dropout(network: nn.Module) -> bool:
    """Whether `network` has dropout layers that `sampling_dropout` could switch on."""
    return any(isinstance(module, nn.Dropout) for module in network.modules())


@contextmanager
def sampling_dropout(network: nn.Module, seed: int) -> Iterator[None]:
    """Keep dropout active, as pix2pix's paper does at test time: its only source of noise.

    The draws come from a CPU generator forked from `seed`, so one seed gives one picture and the caller's
    random stream is untouched.
    """
    layers = [module for module in network.modules() if isinstance(module, nn.Dropout)]
    modes = [layer.training for layer in layers]
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            for layer in layers:
                layer.train()
            yield
    finally:
        for layer, mode in zip(layers, modes, strict=True):
            layer.train(mode)
