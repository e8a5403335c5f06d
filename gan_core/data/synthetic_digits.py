"""A simulator of labelled digits: printed glyphs from the fonts on this machine, varied and centred like MNIST.

SimGAN starts from a simulator whose images come with free labels but do not look real. Ours renders each digit
once per font into a bank of 64×64 glyphs (PIL, a few hundred renders), then makes any number of varied digits
with batched tensor operations only: stroke width (the font's own width, grown or thinned towards a chosen width
by grey-scale dilation or erosion), rotation, shear and
width (one affine resampling), then MNIST's normalisation: the ink's bounding box scaled to a box of about
20 pixels inside 28×28, and the centre of mass moved to the centre of the field (LeCun et al.'s description
of MNIST), with a small random offset. Every random choice comes from a `torch.Generator` seeded by the caller,
so the same seed gives the same digits. Labels are the rendered digits.

Fonts are found, never downloaded: matplotlib's bundled families (DejaVu Sans, Serif and Mono in their bold and
oblique/italic variants, STIX, Computer Modern), Pillow's own bundled font, and TrueType and OpenType files that
Debian font packages put under /usr/share/fonts. The simulator draws from the handwriting fonts among them when
any is installed (`simulator_fonts`; the setup scripts install them), since their pen-drawn shapes are what no
refiner can redraw. A font that cannot be loaded, or that has no distinct glyph for each digit, is skipped with a
warning.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

from gan_core.errors import DatasetUnavailableError

CANVAS = 64  # side of a bank glyph
GLYPH_POINTS = 40  # font size the bank is drawn at: digits about 29 px tall, room to rotate and thicken
FIELD = 28  # MNIST's side
FIELD_CENTRE = FIELD / 2 + 0.5
"""Where MNIST's centres of mass lie, in continuous coordinates (pixel i spans [i, i+1)): pixel 14's centre,
measured on mnist_5k (14.47, 14.51)."""
DIGITS = tuple(range(10))
PILLOW_DEFAULT = "Pillow default (Aileron)"
SYSTEM_FONT_DIRS = (Path("/usr/share/fonts"),)
FONT_SUFFIXES = (".ttf", ".otf")
HANDWRITING_FONT_PACKAGES = {
    "fonts-humor-sans": "humor-sans", "fonts-dkg-handwriting": "fifthhorseman", "fonts-breip": "breip",
    "fonts-rufscript": "rufscript", "fonts-comic-neue": "comic-neue", "fonts-bwht": "bwht",
    "fonts-dancingscript": "dancingscript", "fonts-kaushanscript": "kaushanscript"}
"""Debian packages of handwriting fonts that `scripts/install-fonts.sh` installs, each with the folder its files
go to under /usr/share/fonts (23 fonts in all). Their digits are pen-drawn: open-top 4s, plain 1s, MNIST's loops.
Left out on purpose: hollow or textured faces (fonts-femkeklaver) and ornate ones (fonts-sjfonts' Delphine,
fonts-kristi), whose digits no reader of MNIST recognises."""
SKIPPED_FONT_WORDS = ("LastResort", "Siz", "NonUni", "cmex", "cmsy", "MathTeX", "ExtraLight", "Display")
"""Files that hold symbols rather than digits (DejaVu's Display cuts have no digit glyphs), or strokes too thin
to survive 28 px."""
THICKNESS_LEVELS = (-1, 0, 1, 2, 3)
"""Bank versions of each glyph: one 3×3 erosion (-1), as drawn (0), or 1-3 dilations; a stroke width between two
levels blends their neighbours, so widths are continuous."""
BANK_TO_FIELD = 0.69
"""About how many 28-px field pixels one bank pixel becomes (a 29-px tall glyph fitted to a 20-px box)."""


@dataclass(frozen=True)
class StyleRanges:
    """How far each random choice may go; `Renderer.random_styles` draws uniformly within these."""

    rotation_degrees: float = 12.0
    shear: float = 0.3
    width_scale: tuple[float, float] = (0.8, 1.15)
    box: tuple[float, float] = (18.5, 20.5)  # side of the ink's longest dimension in the 28-px field
    offset: float = 1.0  # pixels of random shift of the centre of mass
    stroke: tuple[float, float] = (2.0, 3.8)  # field pixels; MNIST's 10th-90th percentiles are 2.2 and 3.8


@dataclass
class DigitStyles:
    """One row per digit to draw: which glyph and how to vary it (all tensors of length N)."""

    digit: torch.Tensor  # int64 0-9
    font: torch.Tensor  # int64 index into Renderer.fonts
    rotation: torch.Tensor  # degrees, anticlockwise
    shear: torch.Tensor  # horizontal shear factor
    width_scale: torch.Tensor
    stroke: torch.Tensor  # wanted stroke width in field pixels (MNIST's median is about 2.8)
    box: torch.Tensor  # pixels
    offset_x: torch.Tensor
    offset_y: torch.Tensor

    def __len__(self) -> int:
        return int(self.digit.shape[0])

    @classmethod
    def fixed(cls, digit: int, font: int, rotation: float = 0.0, shear: float = 0.0, width_scale: float = 1.0,
              stroke: float = 2.8, box: float = 20.0, count: int = 1) -> DigitStyles:
        """`count` copies of one chosen style (what a person picks on the Refine page)."""

        def full(value: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.full((count,), value, dtype=dtype)

        return cls(digit=full(digit, torch.int64), font=full(font, torch.int64), rotation=full(rotation),
                   shear=full(shear), width_scale=full(width_scale),
                   stroke=full(stroke), box=full(box),
                   offset_x=full(0.0), offset_y=full(0.0))


def _matplotlib_font_dir() -> Path | None:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


def font_sources(system: bool = True) -> list[tuple[str, str | Path]]:
    """(name, file) of every candidate font: matplotlib's, Pillow's bundled one, then system TrueType files.

    A file name met twice (DejaVu ships with matplotlib and as a Debian package) is used once. `system=False` keeps
    only the fonts inside the installed wheels, the same on every machine, for output that must not depend on which
    Debian font packages happen to be installed (a browser install brings several).
    """
    candidates: list[Path] = []
    if (bundled := _matplotlib_font_dir()) is not None and bundled.is_dir():
        candidates.extend(sorted(bundled.glob("*.ttf")))
    for folder in SYSTEM_FONT_DIRS if system else ():
        if folder.is_dir():
            candidates.extend(sorted(path for path in folder.rglob("*") if path.suffix.lower() in FONT_SUFFIXES))
    sources: list[tuple[str, str | Path]] = []
    seen: set[str] = set()
    for path in candidates:
        if path.name in seen or any(word in path.name for word in SKIPPED_FONT_WORDS):
            continue
        seen.add(path.name)
        sources.append((path.stem, path))
    sources.append((PILLOW_DEFAULT, PILLOW_DEFAULT))
    return sources


def is_handwriting(source: str | Path) -> bool:
    """Whether a font file comes from one of the handwriting font packages (by the folder Debian puts it in)."""
    return Path(source).parent.name in HANDWRITING_FONT_PACKAGES.values()


def simulator_fonts() -> list[tuple[str, str | Path]]:
    """The fonts the simulator draws from: the handwriting fonts when any is installed, else every font found.

    Printed digits differ from handwritten ones in shape, not only in ink (closed-top 4s, foot serifs on 1s, ball
    terminals on 6s and 9s), and no local refiner redraws a shape; handwriting fonts start the simulator from pen
    shapes. Without them it still works, from the printed fonts, and says which packages to install.
    """
    every = font_sources()
    handwriting = [source for source in every if is_handwriting(source[1])]
    if handwriting:
        return handwriting
    warnings.warn("no handwriting font is installed, so synthetic digits are drawn from printed fonts; install "
                  "them with `sudo bash scripts/install-fonts.sh` (Debian: " + " ".join(HANDWRITING_FONT_PACKAGES)
                  + ")", stacklevel=2)
    return every


def _load_font(source: str | Path) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if source == PILLOW_DEFAULT:
        return ImageFont.load_default(size=GLYPH_POINTS)
    return ImageFont.truetype(str(source), GLYPH_POINTS)


def draw_glyph(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, digit: int) -> np.ndarray:
    """One digit as (CANVAS, CANVAS) uint8, white ink on black, centred on its ink's bounding box."""
    picture = Image.new("L", (CANVAS, CANVAS), 0)
    ImageDraw.Draw(picture).text((CANVAS / 2, CANVAS / 2), str(digit), fill=255, font=font, anchor="mm")
    array = np.asarray(picture, dtype=np.uint8)
    rows, columns = np.flatnonzero(array.any(1)), np.flatnonzero(array.any(0))
    if rows.size == 0:
        return array
    shift_y = CANVAS // 2 - (rows[0] + rows[-1] + 1) // 2
    shift_x = CANVAS // 2 - (columns[0] + columns[-1] + 1) // 2
    return np.roll(array, (shift_y, shift_x), axis=(0, 1))


def glyph_problem(glyphs: np.ndarray) -> str | None:
    """Why a font's ten glyphs (10, H, W) cannot serve as digits, or None: every digit needs ink of its own."""
    if (glyphs.reshape(10, -1).max(1) < 128).any():
        return "a digit has no ink"
    flat = glyphs.reshape(10, -1).astype(np.int32)
    for first in range(10):
        for second in range(first + 1, 10):
            if np.abs(flat[first] - flat[second]).mean() < 1.0:
                return f"digits {first} and {second} are drawn the same (no digit glyphs)"
    return None


@dataclass(frozen=True)
class GlyphBank:
    """Every usable font's digits at every thickness level, with what centring needs to know of each glyph.

    `glyphs` (fonts, 10, levels, CANVAS, CANVAS) uint8 are blurred by a 3×3 box so the later shrink to 28 px
    is anti-aliased, as MNIST's grey edges are. `centres` (…, 2) are their centres of mass (x, y) and `support`
    (…, ANGLES) their ink's support function h(φ) = max over ink pixels p of (cos φ, sin φ)·p, both relative to the
    canvas centre: after any linear deformation A, the ink's extent along an axis is read from h without
    resampling, and the centre of mass is A times the centre. So a digit costs one resampling, straight to 28 px.
    """

    fonts: tuple[str, ...]
    glyphs: torch.Tensor
    centres: torch.Tensor
    support: torch.Tensor
    strokes: torch.Tensor  # (fonts,) median stroke width of each font's digits as drawn, in bank pixels


ANGLES = 360


@functools.lru_cache(maxsize=2)
def glyph_bank(sources: tuple[tuple[str, str | Path], ...]) -> GlyphBank:
    """The bank of the usable fonts among `sources`, rendered once per process (the cache holds about 10 MB).

    Rendering is the only per-glyph PIL work. A font that fails to load or lacks digit glyphs is skipped with a
    warning; with no usable font at all there is nothing to render, which is an error that says what to install.
    """
    names, banks = [], []
    for name, source in sources:
        try:
            font = _load_font(source)
            glyphs = np.stack([draw_glyph(font, digit) for digit in DIGITS])
        except (OSError, ValueError) as error:
            warnings.warn(f"font {name} ({source}) skipped: it could not be loaded ({error})", stacklevel=2)
            continue
        if (problem := glyph_problem(glyphs)) is not None:
            warnings.warn(f"font {name} ({source}) skipped: {problem}", stacklevel=2)
            continue
        names.append(name)
        banks.append(glyphs)
    if not banks:
        raise DatasetUnavailableError("no usable font was found to render synthetic digits: install matplotlib "
                                      "(it ships the DejaVu fonts) or a Debian font package such as fonts-dejavu")
    sharp = torch.from_numpy(np.stack(banks)).float().div_(255.0)  # (fonts, 10, CANVAS, CANVAS)
    levels = torch.stack([_thickened(sharp, level) for level in THICKNESS_LEVELS], 2)  # (fonts, 10, levels, H, W)
    flat = levels.reshape(-1, 1, CANVAS, CANVAS)
    blurred = F.avg_pool2d(flat, 3, stride=1, padding=1, count_include_pad=False)
    offsets = torch.arange(CANVAS, dtype=torch.float32) + 0.5 - CANVAS / 2
    mass = blurred.sum((1, 2, 3)).clamp_min(1e-6)
    centres = torch.stack([(blurred.sum((1, 2)) * offsets).sum(1) / mass,
                           (blurred.sum((1, 3)) * offsets).sum(1) / mass], -1)
    angles = torch.arange(ANGLES, dtype=torch.float32) * (2 * math.pi / ANGLES)
    directions = torch.stack([torch.cos(angles), torch.sin(angles)])  # (2, ANGLES)
    grid_y, grid_x = torch.meshgrid(offsets, offsets, indexing="ij")
    points = torch.stack([grid_x.flatten(), grid_y.flatten()], -1)  # (H·W, 2)
    projections = points @ directions  # (H·W, ANGLES)
    support = torch.stack([projections[ink.flatten()].amax(0) for ink in (flat > 0.2).squeeze(1)])
    shape = levels.shape[:3]
    glyphs = blurred.mul(255.0).round_().to(torch.uint8).reshape(*shape, CANVAS, CANVAS)
    strokes = stroke_width(sharp.flatten(0, 1)).reshape(sharp.shape[:2]).median(1).values  # per font, bank px
    return GlyphBank(tuple(names), glyphs, centres.reshape(*shape, 2), support.reshape(*shape, ANGLES), strokes)


def stroke_width(images: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """(N,) typical stroke width of (N, H, W) images in [0, 1]: twice the ink's area over its outline length."""
    ink = (images > threshold).float()
    padded = F.pad(ink, (1, 1, 1, 1))
    interior = padded[:, :-2, 1:-1] * padded[:, 2:, 1:-1] * padded[:, 1:-1, :-2] * padded[:, 1:-1, 2:]
    outline = (ink - ink * interior).sum((1, 2))
    return 2 * ink.sum((1, 2)) / outline.clamp_min(1.0)


def _thickened(glyphs: torch.Tensor, level: int) -> torch.Tensor:
    """Strokes grown by `level` 3×3 grey-scale dilations, or thinned by one erosion at -1.

    A glyph whose strokes are too thin to survive the erosion (hairline and light cuts) stays as drawn at -1, so
    such a font draws its thinnest digits at its own width instead of as blanks.
    """
    if level < 0:
        eroded = -_dilate(-glyphs)
        survives = eroded.amax((-2, -1), keepdim=True) >= 0.5
        return torch.where(survives, eroded, glyphs)
    for _ in range(level):
        glyphs = _dilate(glyphs)
    return glyphs


def _dilate(images: torch.Tensor) -> torch.Tensor:
    """3×3 grey-scale dilation of the last two dimensions, as two separable maxima of shifted views."""
    padded = F.pad(images, (1, 1, 1, 1))
    rows = torch.maximum(torch.maximum(padded[..., :-2, :], padded[..., 1:-1, :]), padded[..., 2:, :])
    return torch.maximum(torch.maximum(rows[..., :-2], rows[..., 1:-1]), rows[..., 2:])


class Renderer:
    """Makes synthetic digits from a glyph bank; `sample(n, seed)` gives images and their labels."""

    def __init__(self, sources: Sequence[tuple[str, str | Path]] | None = None,
                 ranges: StyleRanges = StyleRanges()) -> None:
        self.bank = glyph_bank(tuple(sources if sources is not None else simulator_fonts()))
        self.fonts = self.bank.fonts
        self.ranges = ranges

    def random_styles(self, count: int, generator: torch.Generator) -> DigitStyles:
        """`count` styles drawn from `generator`: every digit and font equally likely, the rest uniform."""
        r = self.ranges

        def uniform(low: float, high: float) -> torch.Tensor:
            return torch.rand(count, generator=generator) * (high - low) + low

        return DigitStyles(
            digit=torch.randint(0, 10, (count,), generator=generator),
            font=torch.randint(0, len(self.fonts), (count,), generator=generator),
            rotation=uniform(-r.rotation_degrees, r.rotation_degrees), shear=uniform(-r.shear, r.shear),
            width_scale=uniform(*r.width_scale),
            stroke=uniform(*r.stroke),
            box=uniform(*r.box), offset_x=uniform(-r.offset, r.offset), offset_y=uniform(-r.offset, r.offset))

    def sample(self, count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """`count` random digits as uint8 (N, 1, 28, 28) and their int64 labels; the same seed, the same digits."""
        styles = self.random_styles(count, torch.Generator().manual_seed(seed))
        return self.render(styles), styles.digit.clone()

    def render(self, styles: DigitStyles, chunk: int = 8192) -> torch.Tensor:
        """uint8 (N, 1, 28, 28) digits in the given styles, in chunks to bound memory."""
        if len(styles) and int(styles.font.max()) >= len(self.fonts):
            raise ValueError(f"font index {int(styles.font.max())} is out of range: {len(self.fonts)} fonts")
        parts = [self._render_chunk(DigitStyles(**{name: getattr(styles, name)[start:start + chunk]
                                                   for name in styles.__dataclass_fields__}))
                 for start in range(0, len(styles), chunk)]
        return torch.cat(parts) if parts else torch.zeros(0, 1, FIELD, FIELD, dtype=torch.uint8)

    def _thickened_glyphs(self, styles: DigitStyles) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each glyph at its wanted stroke width: a blend of the two nearest bank levels (each 3×3 dilation adds
        about 2 bank pixels of width), with their centres of mass and support functions blended alike."""
        wanted = styles.stroke / BANK_TO_FIELD
        level = ((wanted - self.bank.strokes[styles.font]) / 2.0).clamp(THICKNESS_LEVELS[0], THICKNESS_LEVELS[-1])
        below = level.floor().clamp_max(THICKNESS_LEVELS[-1] - 1)
        weight = (level - below)[:, None]
        lower = (styles.font, styles.digit, (below - THICKNESS_LEVELS[0]).long())
        upper = (styles.font, styles.digit, (below - THICKNESS_LEVELS[0] + 1).long())

        def blend(table: torch.Tensor) -> torch.Tensor:
            low, high = table[lower].float(), table[upper].float()
            return low + (high - low) * weight.view(-1, *[1] * (low.dim() - 1))

        return blend(self.bank.glyphs).unsqueeze(1), blend(self.bank.centres), blend(self.bank.support)

    def _render_chunk(self, styles: DigitStyles) -> torch.Tensor:
        """Deform (rotate · shear · stretch) and centre each glyph MNIST's way in one resampling to 28 px.

        With A the deformation about the canvas centre, a glyph's deformed ink spans [-h(-a), h(a)] along x
        (a = A's first row) and likewise along y, so the scale that fits its longer side to `box` is known
        beforehand. Output pixel o then reads canvas point c + A⁻¹ (o - field centre - offset) / scale, c being
        the glyph's centre of mass: the deformed centre of mass lands on the field's centre.
        """
        glyphs, centres, support = self._thickened_glyphs(styles)
        deformation = deformation_matrix(styles.rotation, styles.shear, styles.width_scale)  # (N, 2, 2)
        extents = [_support(support, row) + _support(support, -row) + 1.0 for row in deformation.unbind(1)]
        scale = styles.box / torch.maximum(*extents).clamp_min(1.0)
        out = torch.arange(FIELD, dtype=torch.float32) + 0.5 - FIELD_CENTRE
        out_y, out_x = torch.meshgrid(out, out, indexing="ij")
        displacement = torch.stack([out_x[None] - styles.offset_x[:, None, None],
                                    out_y[None] - styles.offset_y[:, None, None]], -1) / scale[:, None, None, None]
        source = centres[:, None, None, :] + torch.einsum("nij,nhwj->nhwi", torch.linalg.inv(deformation), displacement)
        field = F.grid_sample(glyphs, source / (CANVAS / 2), mode="bilinear", padding_mode="zeros", align_corners=False)
        peak = field.amax((1, 2, 3), keepdim=True).clamp_min(1e-6)
        return (field / peak).mul_(255.0).round_().clamp_(0, 255).to(torch.uint8)


def deformation_matrix(rotation: torch.Tensor, shear: torch.Tensor, width_scale: torch.Tensor) -> torch.Tensor:
    """(N, 2, 2) maps of (x, y) about the glyph's centre: stretch the width, shear, then rotate (degrees)."""
    angle = rotation * (math.pi / 180.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    return torch.stack([
        torch.stack([cos * width_scale, cos * shear - sin], -1),
        torch.stack([sin * width_scale, sin * shear + cos], -1)], -2)


def _support(support: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """max over ink of direction·p for (N, 2) directions of any length, from (N, ANGLES) unit support values."""
    length = direction.norm(dim=1)
    position = torch.atan2(direction[:, 1], direction[:, 0]).remainder(2 * math.pi) * (ANGLES / (2 * math.pi))
    below = position.floor().long() % ANGLES
    weight = position - position.floor()
    rows = torch.arange(support.shape[0])
    value = support[rows, below] * (1 - weight) + support[rows, (below + 1) % ANGLES] * weight
    return value * length


def centre_of_mass(images: torch.Tensor) -> torch.Tensor:
    """(N, 2) (row, column) intensity centres of (N, 1, H, W) images, in continuous pixel coordinates."""
    values = images.float().squeeze(1)
    mass = values.sum((1, 2)).clamp_min(1e-6)
    rows = torch.arange(values.shape[1], dtype=torch.float32) + 0.5
    columns = torch.arange(values.shape[2], dtype=torch.float32) + 0.5
    return torch.stack([(values.sum(2) * rows).sum(1) / mass, (values.sum(1) * columns).sum(1) / mass], 1)


def ink_extent(images: torch.Tensor, threshold: int = 51) -> torch.Tensor:
    """(N,) longest side, in pixels, of the box around each image's pixels brighter than `threshold`."""
    ink = images.squeeze(1) > threshold
    spans = []
    for axis in (2, 1):
        occupied = ink.any(axis)
        positions = torch.arange(occupied.shape[1], dtype=torch.float32)
        first = torch.where(occupied, positions, torch.full_like(positions, float("inf"))).amin(1)
        last = torch.where(occupied, positions, torch.full_like(positions, -1.0)).amax(1)
        spans.append((last - first + 1).clamp_min(0.0))
    return torch.maximum(*spans)
