"""A dataset zip from a stranger: nothing escapes the destination, bombs stop early, images survive."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_core.data.archive import ExtractSummary, SkipReason, ZipLimits, extract_image_zip
from gan_core.data.folder import load_folder
from gan_core.errors import DatasetUnavailableError


def png(colour: int = 100, size: tuple[int, int] = (8, 8), mode: str = "RGB", fmt: str = "PNG") -> bytes:
    fill = colour if mode in ("L", "1", "P") else (colour,) * len(mode)
    buffer = io.BytesIO()
    Image.new(mode, size, fill).save(buffer, fmt)
    return buffer.getvalue()


def make_zip(members: dict[str, bytes] | list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    items = members.items() if isinstance(members, dict) else members
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in items:
            archive.writestr(name, data)
    return buffer.getvalue()


def good_images(count: int, prefix: str = "") -> dict[str, bytes]:
    return {f"{prefix}img_{i}.png": png(20 * i) for i in range(count)}


def tree(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "runs" / "run_1"
    run.mkdir(parents=True)
    (run / "config.json").write_text("{}")
    return run


def test_flat_zip_extracts_and_loads(run_dir: Path) -> None:
    summary = extract_image_zip(make_zip(good_images(10)), run_dir / "data")
    assert summary.images == 10 and summary.class_names == () and summary.skipped == ()
    assert len(list((run_dir / "data").glob("*.png"))) == 10
    dataset = load_folder(16, str(run_dir / "data"))
    assert dataset.labels is None and len(dataset.images) + len(dataset.test_images) == 10


def test_class_subfolders_are_kept_and_wrapper_folder_dropped(run_dir: Path) -> None:
    members = {**good_images(5, "my_data/cats/"), **good_images(5, "my_data/dogs/"), "my_data/README.txt": b"hi"}
    summary = extract_image_zip(make_zip(members), run_dir / "data")
    assert summary.class_names == ("cats", "dogs") and summary.images == 10
    assert summary.skipped_for(SkipReason.NOT_AN_IMAGE) == ["my_data/README.txt"]
    dataset = load_folder(16, str(run_dir / "data"))
    assert dataset.class_names == ["cats", "dogs"]


def test_loose_images_beside_class_folders_are_reported(run_dir: Path) -> None:
    members = {**good_images(4, "cats/"), **good_images(4, "dogs/"), "stray.png": png()}
    summary = extract_image_zip(make_zip(members), run_dir / "data")
    assert summary.skipped_for(SkipReason.OUTSIDE_CLASSES) == ["stray.png"]


def test_mixed_sizes_modes_and_formats_are_accepted(run_dir: Path) -> None:
    sixteen_bit = io.BytesIO()
    Image.fromarray(np.full((9, 5), 40000, dtype=np.uint16)).save(sixteen_bit, "PNG")
    members = {
        "a.png": png(10, (8, 8), "L"),
        "b.png": png(30, (50, 12), "RGBA"),
        "c.png": png(50, (3, 3), "P"),
        "d.jpg": png(70, (20, 30), "RGB", "JPEG"),
        "e.bmp": png(90, (7, 7), "RGB", "BMP"),
        "f.gif": png(110, (16, 4), "RGB", "GIF"),
        "g.webp": png(130, (10, 10), "RGB", "WEBP"),
        "h.png": sixteen_bit.getvalue(),
        "i.png": png(1, (1, 1), "1"),
        "j.JPEG": png(150, (2000, 25), "CMYK", "JPEG"),
    }
    summary = extract_image_zip(make_zip(members), run_dir / "data", ZipLimits(max_stored_side=64))
    assert summary.images == 10, summary.describe()
    stored = {path.stem: Image.open(path) for path in (run_dir / "data").iterdir()}
    assert stored["a"].mode == "L" and stored["h"].mode == "L" and stored["d"].mode == "RGB"
    assert max(stored["j"].size) == 64
    assert np.asarray(stored["h"]).max() == round(40000 / 257)
    assert len(load_folder(8, str(run_dir / "data")).images) == 9


def test_zip_slip_and_absolute_names_never_escape(tmp_path: Path, run_dir: Path) -> None:
    evil = [
        ("../evil.png", png()),
        ("../../evil2.png", png()),
        ("cats/../../../evil3.png", png()),
        ("/tmp/absolute_evil.png", png()),
        ("..\\windows_evil.png", png()),
        ("C:/drive_evil.png", png()),
    ]
    before = tree(tmp_path)
    members = evil + list(good_images(8).items())
    summary = extract_image_zip(make_zip(members), run_dir / "data")
    assert sorted(summary.skipped_for(SkipReason.UNSAFE_PATH)) == sorted(name for name, _ in evil)
    assert tree(tmp_path) - before == {"runs/run_1/data"} | {f"runs/run_1/data/img_{i}.png" for i in range(8)}
    assert not Path("/tmp/absolute_evil.png").exists()


def test_symlink_entries_are_skipped(tmp_path: Path, run_dir: Path) -> None:
    link = zipfile.ZipInfo("cats/link.png")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    fifo = zipfile.ZipInfo("cats/pipe.png")
    fifo.create_system = 3
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    before = tree(tmp_path)
    summary = extract_image_zip(
        make_zip([(link, b"/etc/passwd"), (fifo, png())] + list(good_images(8).items())), run_dir / "data"
    )
    assert summary.skipped_for(SkipReason.SYMLINK) == ["cats/link.png"]
    assert summary.skipped_for(SkipReason.SPECIAL_FILE) == ["cats/pipe.png"]
    assert not any(path.is_symlink() for path in (run_dir / "data").rglob("*"))
    assert {p for p in tree(tmp_path) - before if not p.startswith("runs/run_1/data")} == set()


def test_zip_bomb_member_is_skipped_by_its_real_ratio(run_dir: Path) -> None:
    bomb = b"BM" + b"\x00" * (8 * 1024 * 1024)  # compresses about 1000:1
    members = {"bomb.bmp": bomb, **good_images(8)}
    summary = extract_image_zip(make_zip(members), run_dir / "data")
    assert summary.skipped_for(SkipReason.ZIP_BOMB) == ["bomb.bmp"]
    assert summary.uncompressed_bytes < 2 * 1024 * 1024  # stopped reading soon after the grace
    assert summary.images == 8


def test_total_uncompressed_limit_fails_and_leaves_nothing(run_dir: Path) -> None:
    members = {f"noise_{i}.bmp": png(i, (64, 64), "RGB", "BMP") for i in range(10)}
    with pytest.raises(DatasetUnavailableError, match="unpacks to more than"):
        extract_image_zip(make_zip(members), run_dir / "data", ZipLimits(max_total_bytes=50_000))
    assert not (run_dir / "data").exists()
    assert tree(run_dir) == {"config.json"}


def test_too_many_entries_is_refused(run_dir: Path) -> None:
    with pytest.raises(DatasetUnavailableError, match="holds 9 entries, too many") as caught:
        extract_image_zip(make_zip(good_images(9)), run_dir / "data", ZipLimits(max_entries=8))
    assert "accepted:" in str(caught.value) and "\n" not in str(caught.value)
    assert tree(run_dir) == {"config.json"}


def test_nested_archives_and_non_images_are_skipped_and_reported(run_dir: Path) -> None:
    members = {
        "inner.zip": make_zip(good_images(3)),
        "more/inner.tar.gz": b"\x1f\x8b" + b"\x00" * 30,
        "notes.txt": b"text",
        "model.pkl": b"\x80\x04",
        "__MACOSX/._img_0.png": b"\x00\x05\x16\x07",
        "fake.png": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        **good_images(8),
    }
    summary = extract_image_zip(make_zip(members), run_dir / "data")
    assert sorted(summary.skipped_for(SkipReason.NESTED_ARCHIVE)) == ["inner.zip", "more/inner.tar.gz"]
    assert summary.counts()[SkipReason.NOT_AN_IMAGE] == 2
    assert summary.skipped_for(SkipReason.SYSTEM_FILE) == ["__MACOSX/._img_0.png"]
    assert summary.skipped_for(SkipReason.UNDECODABLE) == ["fake.png"]
    assert summary.images == 8
    assert "8 images extracted" in summary.describe()
    assert tree(run_dir / "data") == {f"img_{i}.png" for i in range(8)}


def test_too_few_usable_images_says_what_was_found(run_dir: Path) -> None:
    members = {**good_images(3), "broken.png": png()[:30], "notes.txt": b"x"}
    with pytest.raises(DatasetUnavailableError) as caught:
        extract_image_zip(make_zip(members), run_dir / "data")
    message = str(caught.value)
    assert "holds 3 usable images" in message and "at least 8 are needed" in message
    assert "image could not be decoded" in message and "accepted: a .zip of PNG" in message
    assert tree(run_dir) == {"config.json"}


def test_not_a_zip_and_empty_zip(run_dir: Path) -> None:
    with pytest.raises(DatasetUnavailableError, match="not a readable zip"):
        extract_image_zip(png(), run_dir / "data")
    with pytest.raises(DatasetUnavailableError, match="empty"):
        extract_image_zip(b"", run_dir / "data")
    with pytest.raises(DatasetUnavailableError, match="holds 0 usable images"):
        extract_image_zip(make_zip({}), run_dir / "data")


def test_zip_from_a_path_and_duplicate_names(tmp_path: Path, run_dir: Path) -> None:
    members = [("a/x.png", png(1)), ("a/X.png", png(2)), *good_images(7, "a/").items()]
    path = tmp_path / "upload.zip"
    path.write_bytes(make_zip(members))
    summary = extract_image_zip(path, run_dir / "data")
    assert isinstance(summary, ExtractSummary) and summary.images == 9
    assert len(os.listdir(run_dir / "data")) == 9


def test_destination_must_be_new_or_empty(run_dir: Path) -> None:
    with pytest.raises(ValueError, match="empty folder"):
        extract_image_zip(make_zip(good_images(8)), run_dir)
    link = run_dir / "link"
    link.symlink_to(run_dir.parent)
    with pytest.raises(ValueError, match="symbolic link"):
        extract_image_zip(make_zip(good_images(8)), link)


def test_limits_describe_is_one_line() -> None:
    text = ZipLimits().describe()
    assert "\n" not in text and "at least 8 images" in text
