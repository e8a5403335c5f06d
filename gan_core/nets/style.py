"""Style-based generator and its discriminator (Karras et al. 2019, StyleGAN; 2020, StyleGAN2), small enough for a CPU.

The generator is two networks. The mapping network turns z into an intermediate latent w (an MLP with
pixel norm on z); the synthesis network starts from a learned constant 4×4 tensor and receives one w per
layer ("styles"), so two w's can be mixed at a crossover layer and w can be pulled towards the tracked
mean w (truncation).

Choices stated, where the papers leave room or a CPU asks for less:
- Styles are applied by **modulated convolution with weight demodulation** (StyleGAN2), not AdaIN: each
  input channel is scaled by the style, the convolution runs with the shared weight, and each output
  channel is divided by the norm the modulated weight would have (StyleGAN2's "fused_modconv=False" form,
  exactly the same maths as grouped convolution with per-sample weights, and faster on a CPU).
- Noise: one single-channel noise image per layer, added with **learned per-channel scales** (StyleGAN's
  form; StyleGAN2 uses one scalar per layer).
- Output: StyleGAN2's skip architecture (an RGB image from every resolution, upsampled and summed), with
  bilinear upsampling instead of the papers' FIR filters.
- Every weight uses the equalised learning rate (weights stored N(0, 1), scaled by He's constant at run
  time); the mapping network's learning rate is scaled by 0.01, as in both papers.
- Per-layer w index: at 32×32 there are 8 style inputs: 4×4 conv (0), 8×8 convs (1, 2), 16×16 convs (3, 4),
  32×32 convs (5, 6), and the last RGB layer (7); each resolution's RGB layer shares the w of the next
  resolution's first conv, as in StyleGAN2. `STYLE_BANDS` names coarse (4²–8²), middle (16²) and fine (32²).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.errors import ConfigError

MAPPING_LR_MULTIPLIER = 0.01
W_AVG_BETA = 0.995  # how slowly the tracked mean w follows each batch's mean (StyleGAN2-ADA's w_avg_beta)
NOISE_MODES = ("random", "const", "none")


def resolutions(image_size: int) -> list[int]:
    """4, 8, ... image_size, or a ConfigError when the size is not 4·2^k with k ≥ 1."""
    levels = int(round(math.log2(image_size / 4))) if image_size >= 4 else 0
    if image_size != 4 * 2**levels or levels < 1:
        raise ConfigError(f"image_size must be a power of two from 8 (8, 16, 32, 64, ...) for StyleGAN; got {image_size}")
    return [4 * 2**level for level in range(levels + 1)]


def style_layer_count(image_size: int) -> int:
    """How many w's the synthesis network takes: 2·log2(size) − 2 (8 at 32×32)."""
    return 2 * len(resolutions(image_size))


def style_bands(image_size: int) -> dict[str, range]:
    """The papers' coarse / middle / fine groups of style layers, scaled to `image_size`.

    At 1024² the paper calls 4²–8² coarse, 16²–32² middle and 64²–1024² fine. A small image has fewer
    resolutions, so coarse is 4²–8², fine is the last resolution, and middle is what lies between.
    Each layer's index is given by `layer_resolution`.
    """
    count = style_layer_count(image_size)
    coarse_end = 3  # w's 0-2 drive the 4×4 and 8×8 convolutions
    fine_start = count - 3  # the last resolution's two convs and its RGB layer
    return {"coarse": range(0, coarse_end), "middle": range(coarse_end, fine_start), "fine": range(fine_start, count)}


class EqualLinear(nn.Module):
    """A linear layer with the equalised learning rate: w ~ N(0, 1) / lr_multiplier, scaled by lr_multiplier / √fan_in."""

    def __init__(self, in_features: int, out_features: int, bias_init: float = 0.0, lr_multiplier: float = 1.0,
                 activation: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.weight_gain, self.bias * self.bias_gain)
        return F.leaky_relu(x, 0.2) * math.sqrt(2) if self.activation else x


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Each vector scaled to unit root-mean-square (ProGAN's pixel norm, applied to z by StyleGAN's mapping)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


class MappingNetwork(nn.Module):
    """z → w: pixel norm, then `layers` fully connected layers with leaky ReLU; tracks the mean w as a buffer.

    The mean w (`w_avg`) is what truncation pulls towards; being a buffer, it is saved in the checkpoint.
    """

    def __init__(self, z_dim: int, w_dim: int, layers: int) -> None:
        super().__init__()
        widths = [z_dim] + [w_dim] * layers
        self.net = nn.Sequential(*[EqualLinear(a, b, lr_multiplier=MAPPING_LR_MULTIPLIER, activation=True)
                                   for a, b in zip(widths[:-1], widths[1:])])
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor, update_w_avg: bool = False) -> torch.Tensor:
        w = self.net(pixel_norm(z.float()))
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().mean(0).to(self.w_avg.dtype), 1.0 - W_AVG_BETA)
        return w


class ModulatedConv(nn.Module):
    """A convolution whose input channels are scaled by a style from w, optionally demodulated (StyleGAN2).

    Demodulation divides each output channel by the L2 norm its modulated weights would have, so a
    style changes the mix of features but not the scale of the activations (what AdaIN's normalisation did).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, w_dim: int, demodulate: bool = True,
                 upsample: bool = False) -> None:
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)  # style starts at 1: the plain convolution
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size**2)
        self.demodulate = demodulate
        self.upsample = upsample
        self.padding = kernel_size // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # (N, in)
        weight = self.weight * self.weight_gain
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = x * styles.to(x.dtype)[:, :, None, None]
        x = F.conv2d(x, weight.to(x.dtype), padding=self.padding)
        if self.demodulate:
            # Σ_{i,k} (w_oik · s_i)² per sample and output channel, from the squared weights' per-(o, i) sums.
            squared = weight.square().sum(dim=(2, 3))  # (out, in)
            demodulation = (styles.square() @ squared.t() + 1e-8).rsqrt()  # (N, out)
            x = x * demodulation.to(x.dtype)[:, :, None, None]
        return x


class StyleLayer(nn.Module):
    """Modulated 3×3 conv, then per-pixel noise with learned per-channel scales, bias and leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, upsample: bool) -> None:
        super().__init__()
        self.conv = ModulatedConv(in_channels, out_channels, 3, w_dim, upsample=upsample)
        self.noise_strength = nn.Parameter(torch.zeros(out_channels))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        # The noise image used when noise is "const": fixed per model, so sampling is repeatable.
        self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution))
        self.resolution = resolution

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        x = self.conv(x, w)
        if noise is not None:
            x = x + noise.to(x.dtype) * self.noise_strength.to(x.dtype)[None, :, None, None]
        x = x + self.bias.to(x.dtype)[None, :, None, None]
        return F.leaky_relu(x, 0.2) * math.sqrt(2)


class ToImage(nn.Module):
    """1×1 modulated conv (no demodulation) from features to the image's channels: StyleGAN2's tRGB."""

    def __init__(self, in_channels: int, channels: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv(in_channels, channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias.to(x.dtype)[None, :, None, None]


def channel_widths(image_size: int, width: int) -> dict[int, int]:
    """Channels per resolution: 4·width at 4² and 8², halving at each later resolution, at least width / 2."""
    return {resolution: max(width // 2, width * 4 // max(1, resolution // 8)) for resolution in resolutions(image_size)}


class SynthesisNetwork(nn.Module):
    """A learned constant 4×4 input, one `StyleLayer` per w, and an RGB output summed over resolutions."""

    def __init__(self, w_dim: int, channels: int, image_size: int, width: int) -> None:
        super().__init__()
        widths = channel_widths(image_size, width)
        sizes = resolutions(image_size)
        self.const = nn.Parameter(torch.randn(widths[4], 4, 4))
        layers: list[nn.Module] = [StyleLayer(widths[4], widths[4], w_dim, 4, upsample=False)]
        to_images: list[nn.Module] = [ToImage(widths[4], channels, w_dim)]
        for previous, resolution in zip(sizes[:-1], sizes[1:]):
            layers.append(StyleLayer(widths[previous], widths[resolution], w_dim, resolution, upsample=True))
            layers.append(StyleLayer(widths[resolution], widths[resolution], w_dim, resolution, upsample=False))
            to_images.append(ToImage(widths[resolution], channels, w_dim))
        self.layers = nn.ModuleList(layers)
        self.to_images = nn.ModuleList(to_images)
        self.num_ws = len(layers) + 1

    def noise_inputs(self, batch: int, mode: str, device: torch.device,
                     rng: torch.Generator | None = None) -> list[torch.Tensor | None]:
        """One noise image per layer: fresh (from `rng`, else the global stream), the stored constant, or none."""
        if mode not in NOISE_MODES:
            raise ConfigError(f"noise must be one of {', '.join(NOISE_MODES)}; got {mode!r}")
        if mode == "none":
            return [None] * len(self.layers)
        if mode == "const":
            return [layer.noise_const for layer in self.layers]
        return [torch.randn(batch, 1, layer.resolution, layer.resolution, generator=rng,
                            device=rng.device if rng is not None else device).to(device) for layer in self.layers]

    def forward(self, ws: torch.Tensor, noise: list[torch.Tensor | None]) -> torch.Tensor:
        """`ws` is (N, num_ws, w_dim): layer i takes ws[:, i]; each resolution's RGB layer takes the next index."""
        x = self.const.to(ws.dtype).unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
        x = self.layers[0](x, ws[:, 0], noise[0])
        image = self.to_images[0](x, ws[:, 1])
        for index, to_image in enumerate(self.to_images[1:]):
            first = 1 + 2 * index
            x = self.layers[first](x, ws[:, first], noise[first])
            x = self.layers[first + 1](x, ws[:, first + 1], noise[first + 1])
            image = F.interpolate(image, scale_factor=2, mode="bilinear", align_corners=False)
            image = image + to_image(x, ws[:, first + 2])
        return image


class StyleGenerator(nn.Module):
    """z → image in [-1, 1] through the mapping and synthesis networks.

    Called with a latent batch alone (as every sampler in GAN Studio calls a generator), it draws without
    mixing or truncation, with fresh noise in training mode and the stored constant noise in eval mode, so
    the same seed always gives the same image. `synthesize` takes explicit per-layer w's and a noise mode.
    """

    def __init__(self, z_dim: int, w_dim: int, mapping_layers: int, channels: int, image_size: int, width: int) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers)
        self.synthesis = SynthesisNetwork(w_dim, channels, image_size, width)
        self.num_ws = self.synthesis.num_ws

    def forward(self, latent: torch.Tensor, psi: float = 1.0, noise_mode: str | None = None) -> torch.Tensor:
        w = truncate(self.mapping(latent), self.mapping.w_avg, psi)
        mode = noise_mode or ("random" if self.training else "const")
        return self.synthesize(broadcast(w, self.num_ws), mode)

    def synthesize(self, ws: torch.Tensor, noise_mode: str = "const", rng: torch.Generator | None = None) -> torch.Tensor:
        noise = self.synthesis.noise_inputs(ws.shape[0], noise_mode, ws.device, rng)
        return torch.tanh(self.synthesis(ws, noise))


def broadcast(w: torch.Tensor, num_ws: int) -> torch.Tensor:
    """(N, w_dim) → (N, num_ws, w_dim): the same w for every layer."""
    return w.unsqueeze(1).expand(-1, num_ws, -1)


def check_psi(psi: float) -> float:
    """ψ as a float in [0, 1], or a ConfigError that says so."""
    try:
        value = float(psi)
    except (TypeError, ValueError):
        raise ConfigError(f"truncation psi must be a number in [0, 1]; got {psi!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"truncation psi must be a number in [0, 1] (1: no truncation, 0: the mean w); got {psi!r}")
    return value


def truncate(w: torch.Tensor, w_avg: torch.Tensor, psi: float) -> torch.Tensor:
    """w' = w̄ + ψ (w − w̄): ψ = 1 keeps w, ψ = 0 gives the mean w for every input."""
    psi = check_psi(psi)
    if psi == 1.0:
        return w
    return w_avg.to(w.dtype).lerp(w, psi) if psi != 0.0 else w_avg.to(w.dtype).expand_as(w).clone()


def minibatch_stddev(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """Append one feature map: the mean standard deviation over groups of samples (ProGAN), so D sees variety."""
    n, c, h, w = x.shape
    group = min(group_size, n)
    while n % group:
        group -= 1
    y = x.float().reshape(group, -1, c, h, w)
    y = (y - y.mean(0)).square().mean(0).add(1e-8).sqrt().mean(dim=(1, 2, 3))  # (n / group,)
    y = y.reshape(-1, 1, 1, 1).repeat(group, 1, h, w).to(x.dtype)
    return torch.cat([x, y], dim=1)


class EqualConv(nn.Module):
    """A convolution with the equalised learning rate (weights N(0, 1), scaled by 1/√fan_in at run time)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, activation: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size**2)
        self.padding = kernel_size // 2
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv2d(x, (self.weight * self.weight_gain).to(x.dtype), self.bias.to(x.dtype), padding=self.padding)
        return F.leaky_relu(x, 0.2) * math.sqrt(2) if self.activation else x


class StyleDiscriminator(nn.Module):
    """image → {"adv": score}: StyleGAN2's residual discriminator, small, with minibatch standard deviation.

    No batch norm (R1 is computed per sample), average pooling for downsampling, equalised learning rate.
    The second argument (a condition) is accepted and must be None: StyleGAN is unconditional.
    """

    def __init__(self, channels: int, image_size: int, width: int) -> None:
        super().__init__()
        widths = channel_widths(image_size, width)
        sizes = resolutions(image_size)[::-1]  # 32, 16, 8, 4
        self.from_image = EqualConv(channels, widths[sizes[0]], 1)
        self.blocks = nn.ModuleList()
        for resolution, lower in zip(sizes[:-1], sizes[1:]):
            block = nn.ModuleDict({
                "conv0": EqualConv(widths[resolution], widths[resolution], 3),
                "conv1": EqualConv(widths[resolution], widths[lower], 3),
                "skip": EqualConv(widths[resolution], widths[lower], 1, activation=False),
            })
            self.blocks.append(block)
        top = widths[4]
        self.final_conv = EqualConv(top + 1, top, 3)
        self.final_linear = EqualLinear(top * 16, top, activation=True)
        self.out = EqualLinear(top, 1)

    def forward(self, image: torch.Tensor, condition: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        x = self.from_image(image)
        for block in self.blocks:
            skip = block["skip"](F.avg_pool2d(x, 2))
            x = F.avg_pool2d(block["conv1"](block["conv0"](x)), 2)
            x = (x + skip) * (1 / math.sqrt(2))
        x = self.final_conv(minibatch_stddev(x))
        return {"adv": self.out(self.final_linear(x.flatten(1))).float()}
