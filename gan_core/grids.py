"""Image grids for previews and downloads: tensors in [-1, 1] to PIL images and PNG bytes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torchvision.utils import make_grid

from gan_core.atomic import atomic_write
from gan_core.data.types import from_unit_range


def to_pil(images: torch.Tensor, columns: int = 8, padding: int = 2, scale: int = 1) -> Image.Image:
    """(N, C, H, W) in [-1, 1] → one PIL image laid out `columns` wide (enlarged by `scale`)."""
    grid = make_grid(from_unit_range(images.detach().float().cpu()), nrow=columns, padding=padding, pad_value=1.0)
    array = (grid.mul(255).round().byte().permute(1, 2, 0).numpy())
    if array.shape[2] == 1 or (images.shape[1] == 1):
        picture = Image.fromarray(np.ascontiguousarray(array[:, :, 0]), mode="L")
    else:
        picture = Image.fromarray(np.ascontiguousarray(array), mode="RGB")
    if scale != 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    return picture


def with_labels(grid: Image.Image, row_labels: list[str], column_labels: list[str], font_size: int = 13) -> Image.Image:
    """`grid` (rows × columns cells, as `to_pil` lays them out) with a label left of each row and above each
    column, so a downloaded grid still says what its axes are."""
    font = ImageFont.load_default(size=font_size)
    measure = ImageDraw.Draw(Image.new("L", (1, 1)))
    left = 8 + max((measure.textlength(label, font=font) for label in row_labels), default=0)
    top = font_size + 10 if column_labels else 0
    labelled = Image.new("RGB", (grid.width + int(left), grid.height + top), "white")
    labelled.paste(grid.convert("RGB"), (int(left), top))
    draw = ImageDraw.Draw(labelled)
    row_pitch, column_pitch = grid.height / max(len(row_labels), 1), grid.width / max(len(column_labels), 1)
    for index, label in enumerate(row_labels):
        draw.text((4, top + (index + 0.5) * row_pitch), label, fill="black", font=font, anchor="lm")
    for index, label in enumerate(column_labels):
        draw.text((left + (index + 0.5) * column_pitch, top / 2), label, fill="black", font=font, anchor="mm")
    return labelled


def png_bytes(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def stacked_png(rows: list[bytes]) -> bytes:
    """PNG rows (as a page shows them, one under another) as one PNG, for a single download."""
    pictures = [Image.open(io.BytesIO(row)) for row in rows]
    mode = "RGB" if any(picture.mode != "L" for picture in pictures) else "L"
    stacked = Image.new(mode, (max(p.width for p in pictures), sum(p.height for p in pictures)), "white")
    top = 0
    for picture in pictures:
        stacked.paste(picture.convert(mode), (0, top))
        top += picture.height
    return png_bytes(stacked)


def save_png(picture: Image.Image, path: Path) -> None:
    atomic_write(Path(path), lambda target: picture.save(target, format="PNG"))
