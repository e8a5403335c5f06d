"""MovieLens-100K, read in place from the `recbole` wheel, and the fixed per-user split IRGAN is measured on.

The data is never copied into this repository (MovieLens' terms forbid redistribution): it is read
from the installed `recbole` package (`pip install --no-deps recbole==1.2.1`), whose example folder
holds the 100K ratings as RecBole "atomic files": tab-separated text whose first line names each
column with its type (`user_id:token`, `rating:float`, `movie_title:token_seq`, ...).
`recbole` itself is never imported (its dependencies are not installed): the folder is found with
`importlib.util.find_spec`.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_core.errors import DatasetUnavailableError

INSTALL_HINT = "pip install --no-deps recbole==1.2.1"
DATASET_FOLDER = ("dataset_example", "ml-100k")
FIELD_TYPES = ("token", "token_seq", "float", "float_seq")


class MovieLensUnavailableError(DatasetUnavailableError):
    """The MovieLens-100K files are not installed, or one of them is corrupt."""


@dataclass(frozen=True)
class Ratings:
    """Every rating as parallel arrays over dense indices, with the names needed to show them.

    `users[k]` rated `items[k]` with `values[k]` stars; indices run over `user_ids` and `item_ids`
    (the dataset's own tokens, in numeric order), so a model's rows and columns map back to them.
    """

    users: np.ndarray  # int64 [n_ratings]
    items: np.ndarray  # int64 [n_ratings]
    values: np.ndarray  # float32 [n_ratings]
    user_ids: tuple[str, ...]
    item_ids: tuple[str, ...]
    titles: tuple[str, ...]  # per item index; "" where the item file has none
    genres: tuple[str, ...]

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)


def default_folder() -> Path:
    """The `ml-100k` folder inside the installed `recbole` package, found without importing it."""
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        raise MovieLensUnavailableError(f"MovieLens-100K is not installed: install it with `{INSTALL_HINT}` "
                                        "(the data ships inside that wheel; its dependencies are not needed)")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*DATASET_FOLDER)


def read_atomic_file(path: Path) -> dict[str, list[str]]:
    """Columns of one RecBole atomic file by field name (the type suffix dropped), as strings.

    A missing file, a header without typed fields or a row with the wrong number of cells raises
    `MovieLensUnavailableError` naming the file and line, so a damaged install is told apart from a bug.
    """
    if not path.is_file():
        raise MovieLensUnavailableError(f"MovieLens-100K file {path} is missing: reinstall it with `{INSTALL_HINT}`")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise MovieLensUnavailableError(f"{path} cannot be read ({error}): reinstall it with `{INSTALL_HINT}`") from None
    if not lines:
        raise MovieLensUnavailableError(f"{path} is empty: reinstall it with `{INSTALL_HINT}`")
    names = []
    for field in lines[0].split("\t"):
        name, _, kind = field.partition(":")
        if not name or kind not in FIELD_TYPES:
            raise MovieLensUnavailableError(f"{path} line 1: header field {field!r} is not 'name:type' "
                                            f"(type one of {', '.join(FIELD_TYPES)}); the file is corrupt")
        names.append(name)
    columns: dict[str, list[str]] = {name: [] for name in names}
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        cells = line.split("\t")
        if len(cells) != len(names):
            raise MovieLensUnavailableError(f"{path} line {number}: {len(cells)} cells where the header names "
                                            f"{len(names)}; the file is corrupt")
        for name, cell in zip(names, cells):
            columns[name].append(cell)
    return columns


def _require(columns: dict[str, list[str]], names: tuple[str, ...], path: Path) -> None:
    missing = [name for name in names if name not in columns]
    if missing:
        raise MovieLensUnavailableError(f"{path} has no column {', '.join(missing)}; the file is corrupt")


def _token_order(tokens: set[str]) -> list[str]:
    """Numeric tokens in numeric order (MovieLens ids are 1..n), anything else after them, sorted."""
    numeric = sorted((t for t in tokens if t.isdigit()), key=int)
    return numeric + sorted(t for t in tokens if not t.isdigit())


def load_movielens(folder: Path | str | None = None, name: str = "ml-100k") -> Ratings:
    """All ratings of `folder/name.inter`, with titles and genres from `folder/name.item`."""
    root = Path(folder) if folder is not None else default_folder()
    inter_path, item_path = root / f"{name}.inter", root / f"{name}.item"
    inter = read_atomic_file(inter_path)
    _require(inter, ("user_id", "item_id", "rating"), inter_path)
    item = read_atomic_file(item_path)
    _require(item, ("item_id",), item_path)
    try:
        values = np.asarray(inter["rating"], dtype=np.float32)
    except ValueError:
        raise MovieLensUnavailableError(f"{inter_path}: a rating is not a number; the file is corrupt") from None
    if values.size == 0:
        raise MovieLensUnavailableError(f"{inter_path} holds no ratings; the file is corrupt")
    user_ids = _token_order(set(inter["user_id"]))
    item_ids = _token_order(set(inter["item_id"]) | set(item["item_id"]))
    user_index = {token: k for k, token in enumerate(user_ids)}
    item_index = {token: k for k, token in enumerate(item_ids)}
    titles = dict(zip(item["item_id"], item.get("movie_title", [""] * len(item["item_id"]))))
    genres = dict(zip(item["item_id"], item.get("class", [""] * len(item["item_id"]))))
    return Ratings(
        users=np.fromiter((user_index[t] for t in inter["user_id"]), dtype=np.int64, count=values.size),
        items=np.fromiter((item_index[t] for t in inter["item_id"]), dtype=np.int64, count=values.size),
        values=values,
        user_ids=tuple(user_ids),
        item_ids=tuple(item_ids),
        titles=tuple(titles.get(t, "") for t in item_ids),
        genres=tuple(genres.get(t, "") for t in item_ids),
    )
