"""Safe extraction of a user's dataset zip into a run's own folder.

A zip from a stranger can point outside the folder (`../`, absolute names), hold symlinks, nest
further archives, or inflate a few kilobytes into gigabytes. This module trusts none of the zip's
headers: every name is rebuilt from sanitised parts and checked to resolve inside the destination,
every member is read through a byte counter that stops at the limits, and every image is decoded
by `gan_core.uploads` and written back as a plain PNG, so what lands on disk is only pixels we
decoded ourselves. One level of class subfolders is kept, the layout `load_folder` reads as labels.
"""

from __future__ import annotations

import io
import re
import shutil
import stat
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from PIL import Image

from gan_core.data.folder import MIN_IMAGES
from gan_core.data.types import IMAGE_SUFFIXES
from gan_core.errors import DatasetUnavailableError, ImageDecodeError
from gan_core.uploads import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, decode_image, fit_within

MiB = 1024 * 1024
ARCHIVE_SUFFIXES = (
    ".zip", ".tar", ".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".xz", ".txz", ".zst", ".lz", ".lzma",
    ".7z", ".rar", ".jar", ".whl", ".cab", ".iso",
)  # fmt: skip
SYSTEM_NAMES = ("__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini")
READ_CHUNK = 64 * 1024


class SkipReason(StrEnum):
    """Why a member of the zip was not extracted; the values read well in a sentence."""

    UNSAFE_PATH = "path leaves the folder"
    SYMLINK = "symbolic link"
    SPECIAL_FILE = "not a regular file"
    ENCRYPTED = "encrypted"
    NESTED_ARCHIVE = "archive inside the archive"
    SYSTEM_FILE = "system file"
    NOT_AN_IMAGE = "not an image"
    TOO_LARGE = "too large"
    ZIP_BOMB = "compression ratio too high"
    UNREADABLE = "corrupt in the zip"
    UNDECODABLE = "image could not be decoded"
    OUTSIDE_CLASSES = "outside the class folders"


@dataclass(frozen=True)
class ZipLimits:
    """What a dataset zip may hold; every field can be changed by the caller (tests, admins)."""

    max_archive_bytes: int = 512 * MiB
    max_entries: int = 20_000
    max_total_bytes: int = 1024 * MiB
    """Uncompressed bytes read over all members, counted as they are read, not taken from headers."""
    max_entry_bytes: int = DEFAULT_MAX_BYTES
    max_compression_ratio: float = 200.0
    """Uncompressed over compressed size per member; checked once a member passes `ratio_grace_bytes`."""
    ratio_grace_bytes: int = 1 * MiB
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_stored_side: int = 1024
    """Images are shrunk to this longest side when stored; training never uses more."""
    min_images: int = MIN_IMAGES

    def describe(self, layout: str = "one subfolder per class, or all at the top") -> str:
        """One line for the UI: what a dataset zip may be (`layout`: how its folders are arranged)."""
        return (
            f"a .zip of PNG, JPEG, WebP, BMP or GIF images ({layout}), "
            f"at least {self.min_images} images, at most {self.max_entries} files, "
            f"{self.max_archive_bytes / MiB:g} MB zipped and {self.max_total_bytes / MiB:g} MB unzipped, "
            f"each image at most {self.max_entry_bytes / MiB:g} MB and {self.max_pixels / 1_000_000:g} megapixels"
        )


@dataclass(frozen=True)
class SkippedEntry:
    name: str
    reason: SkipReason
    detail: str = ""


@dataclass(frozen=True)
class ExtractSummary:
    """What was extracted and what was left out, so the UI can tell the user exactly."""

    destination: Path
    images: int
    class_names: tuple[str, ...]
    skipped: tuple[SkippedEntry, ...]
    uncompressed_bytes: int

    def skipped_for(self, reason: SkipReason) -> list[str]:
        return [entry.name for entry in self.skipped if entry.reason == reason]

    def counts(self) -> dict[SkipReason, int]:
        return dict(Counter(entry.reason for entry in self.skipped))

    def describe(self) -> str:
        names = ", ".join(self.class_names[:6]) + (", …" if len(self.class_names) > 6 else "")
        folders = f" in {len(self.class_names)} folders ({names})" if self.class_names else ""
        text = f"{self.images} images extracted{folders}"
        if self.skipped:
            parts = ", ".join(f"{count} {reason.value}" for reason, count in self.counts().items())
            text += f"; skipped {len(self.skipped)}: {parts}"
        return text


@dataclass(frozen=True)
class _Candidate:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]


def _refuse(problem: str, limits: ZipLimits) -> DatasetUnavailableError:
    return DatasetUnavailableError(" ".join(f"{problem}; accepted: {limits.describe()}".split()))


def _safe_component(text: str, fallback: str) -> str:
    """A file or folder name made only of harmless characters, never '.', '..' or empty."""
    cleaned = re.sub(r"[^A-Za-z0-9._ -]", "_", text).strip(" .")[:80]
    return cleaned or fallback


def _path_parts(name: str) -> tuple[str, ...] | None:
    """The member's path components, or None when the name tries to leave the folder."""
    unified = name.replace("\\", "/")
    if not unified or unified.startswith("/") or "\x00" in unified or re.match(r"^[A-Za-z]:", unified):
        return None
    parts = tuple(part for part in PurePosixPath(unified).parts if part not in ("", "."))
    if not parts or ".." in parts:
        return None
    return parts


def _classify(info: zipfile.ZipInfo) -> tuple[tuple[str, ...] | None, SkipReason | None]:
    """(path parts, None) for a member worth reading, or (None, the reason to skip it)."""
    parts = _path_parts(info.filename)
    if parts is None:
        return None, SkipReason.UNSAFE_PATH
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return None, SkipReason.SYMLINK
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
        return None, SkipReason.SPECIAL_FILE
    lower = parts[-1].lower()
    if any(part in SYSTEM_NAMES for part in parts) or lower.startswith("._"):
        return None, SkipReason.SYSTEM_FILE
    if lower.endswith(ARCHIVE_SUFFIXES):
        return None, SkipReason.NESTED_ARCHIVE
    if not lower.endswith(IMAGE_SUFFIXES):
        return None, SkipReason.NOT_AN_IMAGE
    if info.flag_bits & 0x1:
        return None, SkipReason.ENCRYPTED
    return parts, None


def _strip_common_root(candidates: list[_Candidate]) -> list[_Candidate]:
    """Drop wrapper folders ('my_dataset/cats/1.png' -> 'cats/1.png') that zipping a folder adds."""
    while candidates and all(len(c.parts) > 1 for c in candidates):
        first = candidates[0].parts[0]
        if any(c.parts[0] != first for c in candidates):
            break
        candidates = [_Candidate(c.info, c.parts[1:]) for c in candidates]
    return candidates


class _ByteBudget:
    """Counts uncompressed bytes across the whole archive; the one place the total limit lives."""

    def __init__(self, limits: ZipLimits) -> None:
        self.limits = limits
        self.used = 0

    def read_member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | SkipReason:
        limits = self.limits
        allowed_by_ratio = limits.max_compression_ratio * max(info.compress_size, 1)
        chunks: list[bytes] = []
        size = 0
        with archive.open(info) as stream:
            while chunk := stream.read(READ_CHUNK):
                size += len(chunk)
                self.used += len(chunk)
                if self.used > limits.max_total_bytes:
                    raise _refuse(f"the zip unpacks to more than {limits.max_total_bytes / MiB:g} MB", limits)
                if size > limits.max_entry_bytes:
                    return SkipReason.TOO_LARGE
                if size > limits.ratio_grace_bytes and size > allowed_by_ratio:
                    return SkipReason.ZIP_BOMB
                chunks.append(chunk)
        return b"".join(chunks)


class _Writer:
    """Writes PNGs under one root, never outside it, and can take back everything it wrote."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.created: list[Path] = []
        self.used_names: set[tuple[str, str]] = set()

    def _inside(self, path: Path) -> Path:
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root):
            raise DatasetUnavailableError(f"refusing to write {path}: it resolves outside {self.root}")
        return resolved

    def write(self, folder: str, stem: str, image: Image.Image) -> None:
        directory = self._inside(self.root / folder) if folder else self.root
        if not directory.exists():
            directory.mkdir()
            self.created.append(directory)
        name = stem
        counter = 1
        while (folder, name.lower()) in self.used_names:
            counter += 1
            name = f"{stem}_{counter}"
        self.used_names.add((folder, name.lower()))
        target = self._inside(directory / f"{name}.png")
        with open(target, "xb") as handle:  # "x": never follow or overwrite anything already there
            self.created.append(target)
            image.save(handle, "PNG", compress_level=1)

    def undo(self) -> None:
        for path in reversed(self.created):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _open_archive(data_or_path: bytes | str | Path | BinaryIO, limits: ZipLimits) -> zipfile.ZipFile:
    try:
        if isinstance(data_or_path, bytes | bytearray | memoryview):
            size = len(data_or_path)
            source: str | Path | BinaryIO = io.BytesIO(bytes(data_or_path))
        elif isinstance(data_or_path, str | Path):
            size = Path(data_or_path).stat().st_size
            source = Path(data_or_path)
        else:
            source = data_or_path
            size = source.seek(0, io.SEEK_END)
            source.seek(0)
        if size == 0:
            raise _refuse("the zip file is empty (0 bytes)", limits)
        if size > limits.max_archive_bytes:
            raise _refuse(f"the zip file is {size / MiB:.1f} MB, too large", limits)
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise _refuse(f"the file is not a readable zip archive ({error})", limits) from error


def _prepare_destination(destination: Path) -> tuple[Path, bool]:
    """The resolved, empty destination folder and whether we created it."""
    if destination.is_symlink():
        raise ValueError(f"destination {destination} is a symbolic link; give the run's own folder")
    if destination.exists():
        if not destination.is_dir() or any(destination.iterdir()):
            raise ValueError(f"destination {destination} must be a new or empty folder inside the run folder")
        return destination.resolve(), False
    destination.mkdir(parents=True)
    return destination.resolve(), True


def extract_image_zip(
    data_or_path: bytes | str | Path | BinaryIO,
    destination: Path,
    limits: ZipLimits = ZipLimits(),  # noqa: B008 - frozen, so a shared default is safe
) -> ExtractSummary:
    """Extract the usable images of a dataset zip into `destination` (new or empty, in a run folder).

    Unsafe, non-image and broken members are skipped and listed in the summary; breaking an
    archive-wide limit (size, entry count) or ending with fewer than `limits.min_images` images
    raises `DatasetUnavailableError` and leaves nothing behind.
    """
    with _open_archive(data_or_path, limits) as archive:
        try:
            infos = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise _refuse(f"the zip's table of contents is corrupt ({error})", limits) from error
        if len(infos) > limits.max_entries:
            raise _refuse(f"the zip holds {len(infos)} entries, too many", limits)
        skipped: list[SkippedEntry] = []
        candidates: list[_Candidate] = []
        for info in infos:
            if info.is_dir():  # folders are made by the writer from sanitised names, never from the zip
                continue
            parts, reason = _classify(info)
            if reason is not None:
                skipped.append(SkippedEntry(info.filename, reason))
            elif info.file_size > limits.max_entry_bytes:
                skipped.append(SkippedEntry(info.filename, SkipReason.TOO_LARGE))
            else:
                candidates.append(_Candidate(info, parts))
        candidates = _strip_common_root(candidates)
        labelled = any(len(c.parts) > 1 for c in candidates)

        root, created_root = _prepare_destination(Path(destination))
        writer = _Writer(root)
        budget = _ByteBudget(limits)
        classes: set[str] = set()
        images = 0
        try:
            for candidate in candidates:
                name = candidate.info.filename
                if labelled and len(candidate.parts) == 1:
                    skipped.append(SkippedEntry(name, SkipReason.OUTSIDE_CLASSES))
                    continue
                try:
                    data = budget.read_member(archive, candidate.info)
                except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as error:
                    skipped.append(SkippedEntry(name, SkipReason.UNREADABLE, str(error)))
                    continue
                if isinstance(data, SkipReason):
                    skipped.append(SkippedEntry(name, data))
                    continue
                try:
                    image = decode_image(
                        data, max_pixels=limits.max_pixels, max_bytes=limits.max_entry_bytes, mode="auto"
                    )
                except ImageDecodeError as error:
                    skipped.append(SkippedEntry(name, SkipReason.UNDECODABLE, str(error)))
                    continue
                folder = _safe_component(candidate.parts[0], "class") if labelled else ""
                file_parts = candidate.parts[1:] if labelled else candidate.parts
                stem = _safe_component("_".join(file_parts).rsplit(".", 1)[0], "image")
                writer.write(folder, stem, fit_within(image, limits.max_stored_side))
                classes.add(folder)
                images += 1
            if images < limits.min_images:
                found = f"the zip holds {images} usable images"
                if skipped:
                    reasons = Counter(entry.reason for entry in skipped)
                    found += " (skipped " + ", ".join(f"{n} {r.value}" for r, n in reasons.items()) + ")"
                raise _refuse(f"{found}; at least {limits.min_images} are needed", limits)
        except BaseException:
            writer.undo()
            if created_root:
                shutil.rmtree(root, ignore_errors=True)
            raise
    return ExtractSummary(
        destination=root,
        images=images,
        class_names=tuple(sorted(classes)) if labelled else (),
        skipped=tuple(skipped),
        uncompressed_bytes=budget.used,
    )
