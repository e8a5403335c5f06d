"""Safe intake of one image file that a stranger gave us.

An upload is hostile until proven otherwise: it may be empty, truncated, a text or SVG file renamed
`.png`, or a tiny file that declares a billion pixels. Everything here works on bytes in memory
(nothing touches the disk), checks the magic number and the declared size *before* any pixel is
decoded, and turns every refusal into an `ImageDecodeError` whose one-line message says what was
wrong and what is accepted, so the app can show it as is.

The limits are plain module constants so the UI can state them (`describe_limits()`); callers that
need other limits pass them as arguments. PIL's global `MAX_IMAGE_PIXELS` is never touched.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from typing import Literal

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_core.data.types import to_unit_range
from gan_core.errors import ImageDecodeError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
"""Largest accepted file: generous for a photo, far below what would strain a 2-core server."""

DEFAULT_MAX_PIXELS = 25_000_000
"""Largest accepted width * height (25 megapixels, about 75 MB as RGB), checked before decoding."""

MAX_ASPECT_RATIO = 100
"""Longest side over shortest side; beyond this an image is a line, not a picture to train on."""

ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
"""PIL format names we decode; everything else is refused even if PIL could open it."""

GRAYSCALE_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})

ColourMode = Literal["RGB", "L", "auto"]

# Exceptions PIL raises on malformed input; anything else is a bug in our code and propagates.
_DECODE_FAILURES = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    zlib.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    OverflowError,
    UnidentifiedImageError,
)


def _human_bytes(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):g} MB"
    if count >= 1024:
        return f"{count / 1024:g} KB"
    return f"{count} bytes"


def describe_limits(max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """One line for the UI and for every refusal: which files we take."""
    return (
        f"PNG, JPEG, WebP, BMP or GIF, at most {_human_bytes(max_bytes)} and "
        f"{max_pixels / 1_000_000:g} megapixels, sides no more than {MAX_ASPECT_RATIO}:1"
    )


def _refuse(problem: str, max_pixels: int, max_bytes: int) -> ImageDecodeError:
    message = f"{problem}; accepted: {describe_limits(max_pixels, max_bytes)}"
    return ImageDecodeError(" ".join(message.split()))


def sniff_format(data: bytes) -> str | None:
    """The accepted format named by the file's magic number, or None.

    Sniffing first means PIL never gets to guess at text, SVG, HTML or formats we do not allow.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "WEBP"
    if data.startswith(b"BM"):
        return "BMP"
    return None


def _check_geometry(width: int, height: int, max_pixels: int, max_bytes: int) -> None:
    if width < 1 or height < 1:
        raise _refuse(f"the image declares an empty size {width}x{height}", max_pixels, max_bytes)
    if width * height > max_pixels:
        raise _refuse(
            f"the image declares {width}x{height} = {width * height / 1_000_000:.1f} megapixels, "
            f"too many to decode safely",
            max_pixels,
            max_bytes,
        )
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise _refuse(f"the image is {width}x{height}, a side ratio beyond {MAX_ASPECT_RATIO}:1", max_pixels, max_bytes)


def _open_checked(data: bytes, max_pixels: int, max_bytes: int) -> tuple[Image.Image, str]:
    """Open, check the header, decode frame 0 and apply EXIF orientation; returns (image, source mode)."""
    if len(data) == 0:
        raise _refuse("the file is empty (0 bytes)", max_pixels, max_bytes)
    if len(data) > max_bytes:
        raise _refuse(f"the file is {_human_bytes(len(data))}, too large", max_pixels, max_bytes)
    sniffed = sniff_format(data)
    if sniffed is None:
        raise _refuse("the file is not an image in an accepted format (its first bytes say so)", max_pixels, max_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
            if image.format not in ACCEPTED_FORMATS or image.format != sniffed:
                raise _refuse(f"the file looks like {sniffed} but decodes as {image.format}", max_pixels, max_bytes)
            _check_geometry(image.width, image.height, max_pixels, max_bytes)
            image.seek(0)
            image.load()
            source_mode = image.mode
            oriented = ImageOps.exif_transpose(image)
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _refuse(
            "the image declares far more megapixels than allowed (a decompression bomb)", max_pixels, max_bytes
        ) from error
    except UnidentifiedImageError as error:
        raise _refuse(f"the {sniffed} file is corrupt: its header cannot be read", max_pixels, max_bytes) from error
    except _DECODE_FAILURES as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise _refuse(f"the {sniffed} file is truncated or corrupt ({reason})", max_pixels, max_bytes) from error
    # Orientation can swap the sides, never change the pixel count, but re-check to be sure.
    _check_geometry(oriented.width, oriented.height, max_pixels, max_bytes)
    return oriented, source_mode


def _scaled_to_uint8(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit and float grayscale to 8 bits by scaling, never by clipping at 255.

    16-bit data (modes I;16*, and mode I, which is how 16-bit pixels usually arrive) spans 0..65535;
    floats are taken as 0..1. Values outside those ranges are stretched from their own min to max.
    """
    values = np.asarray(image).astype(np.float64)
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if image.mode == "F" and low >= 0.0 and high <= 1.0:
        scaled = values * 255.0
    elif image.mode != "F" and low >= 0.0 and high <= 65535.0:
        scaled = values / 257.0
    elif high > low:
        scaled = (values - low) / (high - low) * 255.0
    else:
        scaled = np.zeros_like(values)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), mode="L")


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("LA", "PA", "RGBA", "La", "RGBa") or "transparency" in image.info


def to_mode(image: Image.Image, mode: Literal["RGB", "L"]) -> Image.Image:
    """Convert any PIL mode to RGB or L: alpha composited onto white, high bit depths scaled."""
    if image.mode.startswith("I") or image.mode == "F":
        image = _scaled_to_uint8(image)
    if _has_alpha(image):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert(mode)


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode to RGB, the way every upload is seen by the networks."""
    return to_mode(image, "RGB")


def decode_image(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    mode: ColourMode = "RGB",
) -> Image.Image:
    """Decode an untrusted image file into a fresh RGB (or L) image, or raise `ImageDecodeError`.

    `mode="auto"` keeps grayscale sources (1, L, LA, I;16, I, F) as L so a dataset of grayscale
    pictures stays one-channel; anything in colour becomes RGB. Animated GIF/WebP give frame 0.
    """
    image, source_mode = _open_checked(data, max_pixels, max_bytes)
    if mode == "auto":
        mode = "L" if source_mode in GRAYSCALE_MODES else "RGB"
    try:
        return to_mode(image, mode)
    except _DECODE_FAILURES as error:
        raise _refuse(f"the image could not be converted to {mode} ({error})", max_pixels, max_bytes) from error


def fit_within(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink (never enlarge) so the longest side is at most `max_side`, keeping the aspect ratio.

    Large uploads are shrunk before any network sees them so memory and time stay predictable.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}")
    width, height = image.size
    longest = max(width, height)
    if longest <= max_side:
        return image.copy()
    scale = max_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def image_to_tensor(image: Image.Image, size: int | tuple[int, int] | None = None) -> torch.Tensor:
    """A PIL image as a float tensor (1, C, H, W) in [-1, 1], the range our generators work in.

    `size` is an int for a square or (width, height); None keeps the image's own size, which is
    what fully convolutional translators want. L stays one channel; every other mode becomes RGB.
    """
    if image.mode != "L":
        image = to_rgb(image)
    if size is not None:
        target = (size, size) if isinstance(size, int) else tuple(size)
        if image.size != target:
            image = image.resize(target, Image.Resampling.BICUBIC)
    tensor = torch.from_numpy(np.asarray(image, dtype=np.uint8).copy())
    tensor = tensor[None] if tensor.ndim == 2 else tensor.permute(2, 0, 1)
    return to_unit_range(tensor)[None]
