"""The playground's board as one picture: D's surface, the bent noise grid, real and fake points, G's arrows.

Drawn here with numpy and PIL rather than as an interactive chart because the page asks for ten redraws a
second: as a plotly chart the same layers cost the browser about one CPU-second per redraw on this 2-core
machine (styling 800 SVG markers, re-fitting margins; BENCHMARKS.md), a picture costs a JPEG decode. The layers and
colours are the ones GAN Lab uses: red where D says fake, blue where it says real.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image, ImageDraw

from gan_core.toy2d.view import View

REAL = (44, 160, 44)  # green
FAKE = (123, 44, 191)  # purple
ARROW = (150, 60, 190)
NOISE_GRID = (125, 125, 125)
FRAME = (170, 170, 170)
# Diverging scale (ColorBrewer RdBu ends and middle): low → red, middle → white, high → blue.
LOW, MIDDLE, HIGH = np.array([178, 24, 43]), np.array([247, 247, 247]), np.array([33, 102, 172])
HEAT_OPACITY = 0.55  # over white, so the points stay readable on the strongest colours
SUPERSAMPLE = 2  # points and lines drawn at twice the size and shrunk: smooth lines and round dots


def heat_colours(heat: np.ndarray, is_probability: bool) -> np.ndarray:
    """RGB (uint8) for D's values: D(x) in [0, 1] as is; a critic's values scaled by their largest magnitude."""
    if is_probability:
        level = np.clip(heat, 0.0, 1.0)
    else:
        scale = float(np.abs(heat).max()) or 1.0
        level = 0.5 + 0.5 * np.clip(heat / scale, -1.0, 1.0)
    level = level[..., None]
    colour = np.where(level < 0.5, LOW + (MIDDLE - LOW) * (level / 0.5), MIDDLE + (HIGH - MIDDLE) * ((level - 0.5) / 0.5))
    colour = 255.0 + HEAT_OPACITY * (colour - 255.0)
    return colour.round().astype(np.uint8)


def render_board(view: View, size: int = 480, arrows: int = 120) -> Image.Image:
    """The board as a `size`×`size` RGB picture of the square [-extent, extent]², y pointing up."""
    canvas = size * SUPERSAMPLE
    heat = heat_colours(view.heat[::-1], view.heat_is_probability)  # row 0 is the lowest y; images start at the top
    # Smooth at the final size, then blown up plainly: a bilinear resize to the supersampled size costs 4× more.
    board = Image.fromarray(heat, "RGB").resize((size, size), Image.Resampling.BILINEAR)
    board = board.resize((canvas, canvas), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(board)
    scale = (canvas - 1) / (2 * view.extent)

    def pixels(points: np.ndarray) -> list[tuple[float, float]]:
        return list(zip(((points[:, 0] + view.extent) * scale).tolist(), ((view.extent - points[:, 1]) * scale).tolist(),
                        strict=True))

    def dots(points: np.ndarray, colour: tuple[int, int, int], radius: float = 2.2 * SUPERSAMPLE) -> None:
        for x, y in pixels(points):
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)

    for line in view.noise_lines:
        draw.line(pixels(line), fill=NOISE_GRID, width=SUPERSAMPLE)
    dots(view.real, REAL)
    for start, tip in zip(pixels(view.fake[:arrows]), pixels(view.arrow_tips[:arrows]), strict=True):
        draw.line((start, tip), fill=ARROW, width=SUPERSAMPLE)
    dots(view.fake, FAKE)
    draw.rectangle((0, 0, canvas - 1, canvas - 1), outline=FRAME, width=SUPERSAMPLE)
    return board.reduce(SUPERSAMPLE)  # a box filter, like resize(BOX) to within 1 level, in a quarter of the time


def board_jpeg(view: View, size: int = 480) -> bytes:
    """`render_board` as JPEG bytes: sent ten times a second, so the format that encodes in a few ms and
    stays small (PNG took 5× longer at its fastest setting); the board has no text for JPEG to blur."""
    buffer = io.BytesIO()
    render_board(view, size).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def board_data_url(view: View, size: int = 480) -> str:
    """`board_jpeg` as a data: URL, which the page shows inline. The picture then arrives in the same
    message as the rest of the redraw; as a media file the browser fetched it in a second request that
    waited for the busy server and often lost the race against the next redraw (BENCHMARKS.md)."""
    return "data:image/jpeg;base64," + base64.b64encode(board_jpeg(view, size)).decode("ascii")
