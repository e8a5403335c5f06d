"""The official pix2pix/CycleGAN datasets by name: fetched once from their archive, clear messages when not.

No test touches the network: the archives are built here and served from file:// URLs (urllib reads
those like http), and "offline" is a urlopen that raises as it does without a connection.
"""

from __future__ import annotations

import io
import tarfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_core.data import official_translation as official
from gan_core.data.catalogue import load_dataset
from gan_core.errors import DatasetUnavailableError


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _aligned_members(name: str) -> dict[str, bytes]:
    """The pix2pix layout: NAME/train and NAME/val of A|B images, B the negative of A."""
    rng = np.random.default_rng(0)
    members = {}
    for split, count in (("train", 3), ("val", 2)):
        for i in range(count):
            a = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
            members[f"{name}/{split}/{i}.png"] = _png(np.concatenate([a, 255 - a], axis=1))
    return members


def _tar_gz(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def serve(monkeypatch, tmp_path):
    """Point dataset `name` at a local archive; returns the archive's folder (the 'server')."""
    server = tmp_path / "server"
    server.mkdir()

    def point(name: str, archive: Path) -> None:
        monkeypatch.setitem(official.OFFICIAL, name, replace(official.OFFICIAL[name], url=archive.as_uri()))

    return server, point


def _offline(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def test_a_pix2pix_dataset_is_downloaded_unpacked_and_then_read_from_disk(serve, tmp_path, monkeypatch):
    server, point = serve
    point("facades", _tar_gz(server / "facades.tar.gz", _aligned_members("facades")))
    root = tmp_path / "data"
    data = load_dataset("facades", 16, str(root))
    assert data.aligned and data.images.shape[0] == 3 and data.test_images.shape[0] == 2
    assert (data.targets.int() + data.images.int() - 255).abs().max() <= 8, "A|B split as the official layout"
    assert sorted(path.name for path in root.iterdir()) == ["facades"], "the archive and temporaries are gone"

    _offline(monkeypatch)
    assert load_dataset("facades", 16, str(root)).images.shape[0] == 3, "once on disk, no network is needed"


def test_a_cyclegan_dataset_comes_from_its_zip_as_two_unpaired_domains(serve, tmp_path):
    server, point = serve
    archive = server / "horse2zebra.zip"
    with zipfile.ZipFile(archive, "w") as opened:
        for folder, value, count in (("trainA", 30, 3), ("trainB", 220, 4), ("testA", 30, 1), ("testB", 220, 1)):
            for i in range(count):
                opened.writestr(f"horse2zebra/{folder}/{i}.jpg", _png(np.full((20, 20, 3), value, np.uint8)))
    point("horse2zebra", archive)
    data = load_dataset("horse2zebra", 16, str(tmp_path / "data"))
    assert not data.aligned and (data.images.shape[0], data.targets.shape[0]) == (3, 4)


def test_offline_says_where_to_put_the_files_and_leaves_nothing_behind(monkeypatch, tmp_path):
    _offline(monkeypatch)
    root = tmp_path / "data"
    with pytest.raises(DatasetUnavailableError) as raised:
        load_dataset("maps", 16, str(root))
    message = str(raised.value)
    assert "could not be fetched (URLError" in message
    assert official.OFFICIAL["maps"].url in message and str(root / "maps") in message and "train/" in message
    assert "photo2sketch_paired" in message, "and names what works offline"
    assert not any(root.iterdir())


def test_a_dataset_unpacked_by_hand_is_used_without_the_network(monkeypatch, tmp_path):
    _offline(monkeypatch)
    root = tmp_path / "data"
    for name, data in _aligned_members("facades").items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    assert load_dataset("facades", 16, str(root)).images.shape[0] == 3


def test_a_broken_archive_is_reported_and_deleted_so_the_next_try_downloads_again(serve, tmp_path):
    server, point = serve
    broken = server / "facades.tar.gz"
    broken.write_bytes(b"\x1f\x8b this is not gzip data")
    point("facades", broken)
    root = tmp_path / "data"
    with pytest.raises(DatasetUnavailableError, match="facades.tar.gz could not be unpacked"):
        load_dataset("facades", 16, str(root))
    assert not any(root.iterdir()), "no archive, no half-unpacked folder"


def test_an_archive_without_the_layout_or_with_an_escaping_member_is_refused(serve, tmp_path):
    server, point = serve
    point("facades", _tar_gz(server / "facades.tar.gz", {"facades/readme.txt": b"no images here"}))
    root = tmp_path / "data"
    with pytest.raises(DatasetUnavailableError, match="official layout"):
        load_dataset("facades", 16, str(root))
    assert not any(root.iterdir())

    point("maps", _tar_gz(server / "maps.tar.gz", {**_aligned_members("maps"), "../escaped.png": b"x"}))
    with pytest.raises(DatasetUnavailableError, match="could not be unpacked"):
        load_dataset("maps", 16, str(root))
    assert not (tmp_path / "escaped.png").exists() and not any(root.iterdir())


def test_the_catalogue_names_the_official_sets_with_the_variants_that_read_them():
    from gan_core.data.catalogue import dataset_entry, describe_datasets

    pairs, images = describe_datasets(pairs=True), describe_datasets(pairs=False)
    assert {"facades", "edges2shoes", "horse2zebra", "monet2photo"} <= set(pairs) and not set(pairs) & set(images)
    assert "pix2pix" in pairs["facades"] and "CycleGAN" in pairs["horse2zebra"]
    assert dataset_entry("facades").source == "download" and dataset_entry("gray2color").source == "embedded"
    assert official.OFFICIAL["facades"].url == "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz"
    assert official.OFFICIAL["horse2zebra"].url == "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/horse2zebra.zip"


def test_a_full_disk_during_the_download_is_reported_and_leaves_no_partial_file(monkeypatch, tmp_path):
    import errno

    class Response(io.BytesIO):
        headers = {"Content-Length": "4000000"}

    class FillsUp(io.FileIO):
        """A file that takes one chunk and then finds the disk full."""

        def write(self, data):
            if self.tell() > 0:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(data)

    def full_disk_open(path, mode="r", *args, **kwargs):
        return FillsUp(path, "w") if str(path).endswith(".part") else open(path, mode, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Response(b"x" * 4_000_000))
    monkeypatch.setattr(official, "open", full_disk_open, raising=False)
    root = tmp_path / "data"
    with pytest.raises(DatasetUnavailableError, match="No space left on device"):
        load_dataset("facades", 16, str(root))
    assert not any(root.iterdir()), "no partial download, no archive, no folder"
