"""Exploring a style-based generator: per-layer w's from seeds, style mixing, truncation and noise.

The Style page and the StyleGAN benchmark both call these, so what the page shows is what was measured.
Seeds give latents exactly as `gan_core.inference.generate` draws them (one seed, one z), so a seed on
the Style page is the same digit as on any other page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

from gan_core.checkpoints import LoadedGenerator
from gan_core.errors import CheckpointError, ConfigError
from gan_core.nets.style import NOISE_MODES, StyleGenerator, broadcast, check_psi, style_bands, truncate

BANDS = ("coarse", "middle", "fine")


def require_style_generator(model: LoadedGenerator) -> StyleGenerator:
    """The checkpoint's style-based generator, or a CheckpointError saying which checkpoint is needed."""
    if not isinstance(model.generator, StyleGenerator):
        kind = "a class-conditional " if model.layout is not None and model.layout.num_labels else "a "
        raise CheckpointError(
            f"{model.path.name} is {kind}{model.variant} checkpoint; style mixing, truncation and noise need a "
            "StyleGAN checkpoint (a mapping network and one style per layer), such as checkpoints/stylegan-mnist")
    return model.generator


@dataclass(frozen=True)
class StyleLayers:
    """Which synthesis layers take their w from source B; the rest keep source A's."""

    from_b: frozenset[int]
    num_ws: int

    def mask(self, device: torch.device) -> torch.Tensor:
        """(1, num_ws, 1) booleans, True where B's w is used."""
        flags = torch.tensor([index in self.from_b for index in range(self.num_ws)], device=device)
        return flags[None, :, None]


def band_layers(model: LoadedGenerator, bands: Iterable[str]) -> StyleLayers:
    """The layers of the named bands (coarse 4²–8², middle, fine: the last resolution) take B's styles."""
    generator = require_style_generator(model)
    groups = style_bands(model.dataset.image_shape[1])
    chosen: set[int] = set()
    for band in bands:
        if band not in groups:
            raise ConfigError(f"style band must be one of {', '.join(BANDS)}; got {band!r}")
        chosen.update(groups[band])
    return StyleLayers(frozenset(chosen), generator.num_ws)


def crossover_layers(model: LoadedGenerator, crossover: int) -> StyleLayers:
    """Layers from `crossover` on take B's styles (StyleGAN's mixing regularisation draws exactly this);
    a crossover at the number of layers means no mixing."""
    generator = require_style_generator(model)
    if not 0 <= int(crossover) <= generator.num_ws:
        raise ConfigError(f"crossover must be an integer in [0, {generator.num_ws}]; got {crossover}")
    return StyleLayers(frozenset(range(int(crossover), generator.num_ws)), generator.num_ws)


def seed_latents(model: LoadedGenerator, seeds: Sequence[int]) -> torch.Tensor:
    """One z per seed, as `generate(model, 1, seed)` draws it."""
    device = next(model.generator.parameters()).device
    return torch.cat([model.layout.build(1, int(seed), device) for seed in seeds])


@torch.inference_mode()
def mapped(model: LoadedGenerator, latents: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
    """w for each latent, truncated towards the tracked mean w by ψ (1: unchanged, 0: the mean w)."""
    generator = require_style_generator(model)
    return truncate(generator.mapping(latents), generator.mapping.w_avg, psi)


def mix(ws_a: torch.Tensor, ws_b: torch.Tensor, layers: StyleLayers) -> torch.Tensor:
    """Per-layer w's (N, num_ws, w_dim): B's w at `layers.from_b`, A's elsewhere. `ws_*` are (N, w_dim)."""
    mask = layers.mask(ws_a.device)
    return torch.where(mask, broadcast(ws_b, layers.num_ws), broadcast(ws_a, layers.num_ws))


@dataclass(frozen=True)
class Noise:
    """The per-layer noise inputs: the model's stored noise ("const"), none, or fresh noise from `seed`."""

    mode: str = "const"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in NOISE_MODES:
            raise ConfigError(f"noise must be one of {', '.join(NOISE_MODES)}; got {self.mode!r}")


@torch.inference_mode()
def synthesize(model: LoadedGenerator, ws: torch.Tensor, noise: Noise = Noise()) -> torch.Tensor:
    """Images in [-1, 1] on the CPU from per-layer w's; resampled noise is drawn from `noise.seed`, so it repeats."""
    generator = require_style_generator(model)
    rng = torch.Generator(device="cpu").manual_seed(noise.seed) if noise.mode == "random" else None
    return generator.synthesize(ws, noise.mode, rng).float().cpu()


def sample(model: LoadedGenerator, seeds: Sequence[int], psi: float = 1.0, noise: Noise = Noise()) -> torch.Tensor:
    """One image per seed, with truncation ψ and the chosen noise."""
    generator = require_style_generator(model)
    return synthesize(model, broadcast(mapped(model, seed_latents(model, seeds), psi), generator.num_ws), noise)


def mean_w_image(model: LoadedGenerator, noise: Noise = Noise()) -> torch.Tensor:
    """The image of the tracked mean w: what every seed becomes at ψ = 0."""
    generator = require_style_generator(model)
    w_avg = generator.mapping.w_avg[None]
    return synthesize(model, broadcast(w_avg, generator.num_ws), noise)


@dataclass(frozen=True)
class MixingGrid:
    """StyleGAN's figure: B's images across the top, A's down the left, each cell A with B's chosen layers."""

    sources_a: torch.Tensor  # (rows, C, H, W)
    sources_b: torch.Tensor  # (columns, C, H, W)
    mixed: torch.Tensor  # (rows * columns, C, H, W), row-major

    def as_grid(self) -> tuple[torch.Tensor, int]:
        """All images in one (rows + 1) × (columns + 1) grid with a blank corner, and its column count."""
        blank = torch.full_like(self.sources_a[:1], -1.0)
        columns = self.sources_b.shape[0]
        rows = [torch.cat([blank, self.sources_b])]
        for row, source in enumerate(self.sources_a):
            rows.append(torch.cat([source[None], self.mixed[row * columns:(row + 1) * columns]]))
        return torch.cat(rows), columns + 1


def style_mixing_grid(model: LoadedGenerator, seeds_a: Sequence[int], seeds_b: Sequence[int], layers: StyleLayers,
                      psi: float = 1.0, noise: Noise = Noise()) -> MixingGrid:
    """Every A seed mixed with every B seed, with the same truncation and noise for sources and mixtures."""
    generator = require_style_generator(model)
    if not seeds_a or not seeds_b:
        raise ConfigError("choose at least one seed for source A and one for source B")
    w_a = mapped(model, seed_latents(model, seeds_a), psi)
    w_b = mapped(model, seed_latents(model, seeds_b), psi)
    rows, columns = len(seeds_a), len(seeds_b)
    mixed_ws = mix(w_a.repeat_interleave(columns, 0), w_b.repeat(rows, 1), layers)
    return MixingGrid(
        sources_a=synthesize(model, broadcast(w_a, generator.num_ws), noise),
        sources_b=synthesize(model, broadcast(w_b, generator.num_ws), noise),
        mixed=synthesize(model, mixed_ws, noise),
    )


def parse_seeds(text: str, limit: int = 16) -> list[int]:
    """Seeds typed as "1, 2, 5-8": integers in [0, 2³¹ − 1], at most `limit`, or a ConfigError saying how to write them."""
    seeds: list[int] = []
    for part in (piece.strip() for piece in str(text).replace(";", ",").split(",")):
        if not part:
            continue
        try:
            if "-" in part[1:]:
                low, high = (int(end) for end in part.split("-", 1))
                if high < low:
                    raise ValueError
                seeds.extend(range(low, high + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise ConfigError(f"seeds are integers separated by commas, or ranges like 5-8; got {part!r}") from None
        if len(seeds) > limit:
            raise ConfigError(f"at most {limit} seeds here; got more in {text!r}")
    if not seeds:
        raise ConfigError("type at least one seed (for example 1, 2, 3)")
    bad = [seed for seed in seeds if not 0 <= seed <= 2**31 - 1]
    if bad:
        raise ConfigError(f"seeds must be integers in [0, 2147483647]; got {bad[0]}")
    return seeds


__all__ = ["BANDS", "MixingGrid", "Noise", "StyleLayers", "band_layers", "check_psi", "crossover_layers", "mapped",
           "mean_w_image", "mix", "parse_seeds", "require_style_generator", "sample", "seed_latents",
           "style_mixing_grid", "synthesize"]
