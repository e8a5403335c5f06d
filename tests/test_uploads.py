"""Uploads are hostile: every accepted mode decodes right, every bad file is refused in one clear line."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from gan_core.errors import ImageDecodeError
from gan_core.uploads import (
    DEFAULT_MAX_PIXELS,
    MAX_ASPECT_RATIO,
    decode_image,
    describe_limits,
    fit_within,
    image_to_tensor,
    to_rgb,
)


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def assert_refused(data: bytes, *words: str, **limits) -> str:
    with pytest.raises(ImageDecodeError) as caught:
        decode_image(data, **limits)
    message = str(caught.value)
    assert "\n" not in message
    assert "accepted: PNG, JPEG, WebP, BMP or GIF" in message
    for word in words:
        assert word in message, message
    return message


# --- every mode converts correctly -------------------------------------------------------------


def test_rgb_png_round_trips_exactly() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    decoded = decode_image(encode(Image.fromarray(pixels, "RGB")))
    assert decoded.mode == "RGB" and decoded.size == (7, 5)
    assert np.array_equal(np.asarray(decoded), pixels)


def test_one_bit_image() -> None:
    image = Image.new("1", (4, 2), 0)
    image.putpixel((1, 0), 1)
    decoded = np.asarray(decode_image(encode(image)))
    assert decoded[0, 1].tolist() == [255, 255, 255]
    assert decoded[0, 0].tolist() == [0, 0, 0]


def test_grayscale_l_becomes_three_equal_channels() -> None:
    decoded = np.asarray(decode_image(encode(Image.new("L", (3, 3), 77))))
    assert (decoded == 77).all() and decoded.shape == (3, 3, 3)


def test_grayscale_alpha_is_composited_onto_white() -> None:
    image = Image.new("LA", (2, 1), (0, 255))
    image.putpixel((1, 0), (0, 0))
    decoded = np.asarray(decode_image(encode(image)))
    assert decoded[0, 0].tolist() == [0, 0, 0]
    assert decoded[0, 1].tolist() == [255, 255, 255]


def test_rgba_half_transparent_blends_with_white() -> None:
    decoded = np.asarray(decode_image(encode(Image.new("RGBA", (2, 2), (0, 0, 0, 128)))))
    assert np.allclose(decoded, 127, atol=1)


def test_palette_with_transparency_index_shows_white() -> None:
    image = Image.new("P", (2, 1), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.putpixel((1, 0), 1)
    data = encode(image, transparency=0)
    decoded = np.asarray(decode_image(data))
    assert decoded[0, 0].tolist() == [255, 255, 255]
    assert decoded[0, 1].tolist() == [0, 0, 255]


def test_palette_without_transparency() -> None:
    image = Image.new("P", (1, 1), 0)
    image.putpalette([10, 20, 30] + [0] * 765)
    assert np.asarray(decode_image(encode(image)))[0, 0].tolist() == [10, 20, 30]


def test_cmyk_jpeg() -> None:
    decoded = decode_image(encode(Image.new("CMYK", (8, 8), (0, 0, 0, 0)), "JPEG", quality=95))
    assert decoded.mode == "RGB"
    assert np.asarray(decoded).min() > 240  # no ink is white


def test_sixteen_bit_png_is_scaled_not_clipped() -> None:
    values = np.array([[0, 32896, 65535]], dtype=np.uint16)
    image = Image.fromarray(values)
    assert image.mode == "I;16"
    decoded = np.asarray(decode_image(encode(image)))[..., 0]
    assert decoded.tolist() == [[0, 128, 255]]


def test_thirty_two_bit_and_float_modes_are_scaled() -> None:
    as_int = Image.fromarray(np.array([[0, 65535]], dtype=np.int32), mode="I")
    assert np.asarray(to_rgb(as_int))[..., 0].tolist() == [[0, 255]]
    as_float = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32), mode="F")
    assert np.asarray(to_rgb(as_float))[..., 0].tolist() == [[0, 128, 255]]
    wide_float = Image.fromarray(np.array([[-3.0, 5.0]], dtype=np.float32), mode="F")
    assert np.asarray(to_rgb(wide_float))[..., 0].tolist() == [[0, 255]]


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "BMP", "GIF"])
def test_each_accepted_format(fmt: str) -> None:
    decoded = decode_image(encode(Image.new("RGB", (6, 4), (200, 30, 30)), fmt))
    assert decoded.mode == "RGB" and decoded.size == (6, 4)
    assert abs(int(np.asarray(decoded)[2, 3, 0]) - 200) < 20


def test_animated_gif_gives_first_frame() -> None:
    frames = [Image.new("RGB", (4, 4), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert np.asarray(decode_image(data))[0, 0].tolist() == [255, 0, 0]


def test_exif_orientation_is_honoured() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    data = encode(Image.new("RGB", (40, 20), "green"), "JPEG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).size == (40, 20)
    assert decode_image(data).size == (20, 40)


def test_tiny_and_very_wide_images() -> None:
    assert decode_image(encode(Image.new("RGB", (1, 1)))).size == (1, 1)
    assert decode_image(encode(Image.new("RGB", (2000, 20)))).size == (2000, 20)


def test_auto_mode_keeps_grayscale_one_channel() -> None:
    assert decode_image(encode(Image.new("L", (2, 2))), mode="auto").mode == "L"
    assert decode_image(encode(Image.new("RGB", (2, 2))), mode="auto").mode == "RGB"


# --- refusals --------------------------------------------------------------------------------


def test_empty_file_is_refused() -> None:
    assert_refused(b"", "empty")


def test_truncated_file_is_refused() -> None:
    data = encode(Image.effect_noise((64, 64), 40).convert("RGB"))
    assert_refused(data[: len(data) // 2], "truncated or corrupt")


def test_corrupt_jpeg_is_refused() -> None:
    data = bytearray(encode(Image.new("RGB", (32, 32), "red"), "JPEG"))
    data[20:] = b"\x00" * (len(data) - 20)
    assert_refused(bytes(data), "corrupt")


@pytest.mark.parametrize(
    "data",
    [
        b"hello, this is a text file renamed photo.png\n",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
        b"PK\x03\x04" + b"\x00" * 40,
    ],
    ids=["text", "svg", "html", "zip"],
)
def test_non_images_are_refused_by_their_bytes(data: bytes) -> None:
    assert_refused(data, "not an image")


def test_formats_outside_the_allow_list_are_refused() -> None:
    tiff = encode(Image.new("RGB", (4, 4)), "TIFF")
    assert_refused(tiff, "not an image")


def test_over_max_bytes_is_refused() -> None:
    data = encode(Image.new("RGB", (32, 32)))
    assert_refused(data, "too large", max_bytes=len(data) - 1)
    assert decode_image(data, max_bytes=len(data)).size == (32, 32)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def crafted_png(width: int, height: int) -> bytes:
    """A few hundred bytes whose header claims width x height 8-bit grayscale pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _png_chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [6000, 30000])
def test_decompression_bomb_is_refused_before_decoding(side: int) -> None:
    data = crafted_png(side, side)
    assert len(data) < 200
    started = time.perf_counter()
    message = assert_refused(data)
    assert time.perf_counter() - started < 1.0
    assert message.startswith("the image declares")
    assert ("36.0 megapixels, too many" in message) if side == 6000 else ("decompression bomb" in message)
    # The header check runs before PIL's own (global) bomb limit, which we leave alone.
    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS > DEFAULT_MAX_PIXELS


def test_real_one_bit_image_over_the_pixel_limit_is_refused() -> None:
    data = encode(Image.new("1", (3000, 3000)))
    assert len(data) < 10_000
    assert_refused(data, "9.0 megapixels", max_pixels=4_000_000)


def test_extreme_aspect_ratio_and_empty_sides_are_refused() -> None:
    assert_refused(encode(Image.new("RGB", (20 * MAX_ASPECT_RATIO + 1, 20))), "side ratio")
    assert_refused(crafted_png(0, 10), "corrupt")


def test_describe_limits_is_one_line() -> None:
    text = describe_limits()
    assert "\n" not in text and "25 megapixels" in text and "20 MB" in text


# --- helpers for inference -------------------------------------------------------------------


def test_fit_within_keeps_aspect_and_never_enlarges() -> None:
    image = Image.new("RGB", (2000, 20))
    assert fit_within(image, 500).size == (500, 5)
    assert fit_within(Image.new("RGB", (30, 10)), 500).size == (30, 10)
    assert fit_within(Image.new("RGB", (1000, 1)), 10).size == (10, 1)


def test_image_to_tensor_range_and_shape() -> None:
    image = Image.new("RGB", (4, 2), (255, 0, 127))
    tensor = image_to_tensor(image)
    assert tensor.shape == (1, 3, 2, 4) and tensor.dtype == torch.float32
    assert torch.allclose(tensor[0, :, 0, 0], torch.tensor([1.0, -1.0, 127 / 127.5 - 1]))
    assert image_to_tensor(image, size=8).shape == (1, 3, 8, 8)
    assert image_to_tensor(Image.new("L", (3, 3)), size=(5, 2)).shape == (1, 1, 2, 5)


# --- fuzzing ---------------------------------------------------------------------------------


def _seed_files() -> list[bytes]:
    small = Image.new("RGB", (6, 5), (10, 200, 30))
    return [encode(small, fmt) for fmt in ("PNG", "JPEG", "GIF", "BMP", "WEBP")]


SEEDS = _seed_files()


def _check_contract(data: bytes) -> None:
    try:
        image = decode_image(data, max_pixels=1_000_000)
    except ImageDecodeError as error:
        assert "\n" not in str(error)
    else:
        assert image.mode == "RGB" and image.width >= 1 and image.height >= 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_arbitrary_bytes_decode_or_raise_image_decode_error(data: bytes) -> None:
    _check_contract(data)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(SEEDS),
    edits=st.lists(st.tuples(st.integers(0, 4096), st.integers(0, 255)), max_size=6),
    cut=st.integers(0, 4096),
)
def test_mutated_images_decode_or_raise_image_decode_error(seed: bytes, edits, cut: int) -> None:
    data = bytearray(seed)
    for position, value in edits:
        data[position % len(data)] = value
    _check_contract(bytes(data[: max(cut, 8)] if cut < len(data) else data))
