"""The official pix2pix and CycleGAN datasets by name: downloaded once when online, read from disk after.

The official projects host each dataset as one archive: pix2pix's as `NAME.tar.gz` of aligned A|B images
under `NAME/train`, `NAME/val` (and `NAME/test`); CycleGAN's as `NAME.zip` of `NAME/trainA`, `trainB`,
`testA`, `testB`. Both unpack to the layouts `paired.load_translation_folder` reads, so once a dataset
is on disk it loads like a user's own folder, and a user who is offline can unpack the archive there
by hand. Downloads go to a partial file first and are unpacked into a temporary folder that is renamed
into place at the end, so a killed process or a full disk never leaves a half dataset that looks whole.
"""

from __future__ import annotations

import gzip
import shutil
import tarfile
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from gan_core.data.downloads import require_cached_or_reachable
from gan_core.data.paired import PairedDataset, load_translation_folder, translation_layout
from gan_core.data.torchvision_sets import default_root
from gan_core.errors import DatasetUnavailableError

PIX2PIX_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"
CYCLEGAN_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
TIMEOUT_S = 30
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class OfficialDataset:
    name: str
    url: str
    aligned: bool
    about: str

    @property
    def description(self) -> str:
        layout = "aligned A|B pairs, pix2pix" if self.aligned else "unpaired domains, CycleGAN"
        return f"{self.about} (official {layout}; downloads when online)"


def _pix2pix(name: str, about: str) -> OfficialDataset:
    return OfficialDataset(name, PIX2PIX_URL.format(name=name), True, about)


def _cyclegan(name: str, about: str) -> OfficialDataset:
    return OfficialDataset(name, CYCLEGAN_URL.format(name=name), False, about)


# The names and image counts are the official download scripts'.
OFFICIAL: dict[str, OfficialDataset] = {dataset.name: dataset for dataset in (
    _pix2pix("facades", "building facades ↔ their labels, 400 images"),
    _pix2pix("maps", "aerial photos ↔ maps, 1,096 images"),
    _pix2pix("cityscapes", "street scenes ↔ their labels, 2,975 images"),
    _pix2pix("night2day", "night ↔ day webcam scenes, 20k images"),
    _pix2pix("edges2shoes", "edges → shoe photos, 50k images"),
    _pix2pix("edges2handbags", "edges → handbag photos, 137k images"),
    _cyclegan("horse2zebra", "horses ↔ zebras"),
    _cyclegan("apple2orange", "apples ↔ oranges"),
    _cyclegan("summer2winter_yosemite", "Yosemite in summer ↔ in winter"),
    _cyclegan("monet2photo", "Monet paintings ↔ photos"),
    _cyclegan("cezanne2photo", "Cézanne paintings ↔ photos"),
    _cyclegan("ukiyoe2photo", "ukiyo-e prints ↔ photos"),
    _cyclegan("vangogh2photo", "Van Gogh paintings ↔ photos"),
    _cyclegan("iphone2dslr_flower", "flower photos: phone ↔ DSLR depth of field"),
)}


def _download(url: str, target: Path) -> None:
    """`url` to `target` through `target`.part, with a progress bar; the part file never outlives a failure."""
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {target.name}") as bar:
                while chunk := response.read(CHUNK_BYTES):
                    out.write(chunk)
                    bar.update(len(chunk))
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _unpack(archive: Path, name: str, root: Path) -> None:
    """Unpack into a hidden temporary folder beside the dataset's, then rename its `name/` folder into place."""
    staging = root / f".{name}.unpacking"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        if archive.suffix == ".zip":
            with zipfile.ZipFile(archive) as opened:  # zipfile drops absolute paths and '..' from member names
                opened.extractall(staging)
        else:
            with tarfile.open(archive) as opened:
                opened.extractall(staging, filter="data")  # refuses links and paths that leave the folder
        unpacked = staging / name if (staging / name).is_dir() else staging
        if translation_layout(unpacked) is None:
            raise DatasetUnavailableError(f"{archive.name} does not hold the official layout (train/ or trainA/)")
        unpacked.rename(root / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch(dataset: OfficialDataset, root: Path) -> Path:
    """The dataset's folder under `root`, downloaded and unpacked first if it is not there yet."""
    folder = root / dataset.name
    if translation_layout(folder) is not None:
        return folder
    archive = root / dataset.url.rsplit("/", 1)[-1]
    how_to = (f"when online it downloads by itself; otherwise download {dataset.url} elsewhere and unpack it "
              f"so that {folder} holds {'train/' if dataset.aligned else 'trainA/ and trainB/'}, or train on an "
              "embedded task (photo2sketch_paired, photo2sketch)")
    try:
        root.mkdir(parents=True, exist_ok=True)
        if not archive.is_file():
            _download(dataset.url, archive)
        _unpack(archive, dataset.name, root)
    except (tarfile.TarError, zipfile.BadZipFile, gzip.BadGzipFile, zlib.error, EOFError,
            DatasetUnavailableError) as error:
        archive.unlink(missing_ok=True)  # a broken archive would be found again by the next try
        raise DatasetUnavailableError(
            f"dataset {dataset.name!r}: {archive.name} could not be unpacked ({error}); {how_to}") from None
    except OSError as error:  # offline, refused, a full disk: a complete archive stays for the next try
        raise DatasetUnavailableError(
            f"dataset {dataset.name!r} is not in {root} and could not be fetched ({type(error).__name__}: "
            f"{error}); {how_to}") from None
    archive.unlink(missing_ok=True)
    return folder


def load_official(name: str, image_size: int, root: str | None = None) -> PairedDataset:
    dataset = OFFICIAL[name]
    return load_translation_folder(image_size, str(fetch(dataset, Path(root) if root else default_root())))


def download_check_for(name: str) -> Callable[[str | None], None]:
    """The Start-time check of `name`: unpacked (or its archive kept) under the root, or its server reachable."""
    def check(root: str | None) -> None:
        dataset = OFFICIAL[name]
        base = Path(root) if root else default_root()
        cached = translation_layout(base / name) is not None or (base / dataset.url.rsplit("/", 1)[-1]).is_file()
        require_cached_or_reachable(name, cached, dataset.url, f"looked in {base}",
                                    "choose an embedded task (photo2sketch_paired, photo2sketch, gray2color)")

    return check


def loader_for(name: str) -> Callable[[int, str | None], PairedDataset]:
    def load(image_size: int, root: str | None = None) -> PairedDataset:
        return load_official(name, image_size, root)

    return load
