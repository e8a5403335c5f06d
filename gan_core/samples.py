"""What a variant draws, by kind: the kind decides how a preview is saved, shown and offered for download.

A variant declares its `SampleKind` in its spec. The trainer saves each preview through the kind, the run
folder holds one file per preview with the kind's suffix, and the pages (Train dashboard, Home cards) pick
their renderer by kind, never by variant name. Image variants return `(images in [-1, 1], columns)` from
`preview()`; a text variant returns its lines; a ranking variant a JSON-ready list of rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gan_core.atomic import atomic_write
from gan_core.grids import save_png, to_pil


def _write_image_grid(preview: tuple[Any, int], path: Path) -> None:
    images, columns = preview
    save_png(to_pil(images, columns=columns), path)


def _write_lines(preview: list[str], path: Path) -> None:
    text = "".join(f"{line}\n" for line in preview)
    atomic_write(path, lambda target: target.write_text(text, encoding="utf-8"))


def _write_json(preview: Any, path: Path) -> None:
    text = json.dumps(preview, indent=1, ensure_ascii=False)
    atomic_write(path, lambda target: target.write_text(text, encoding="utf-8"))


@dataclass(frozen=True)
class SampleKind:
    """One kind of sample: its name, what a person sees, the file a preview becomes, and how it is written."""

    name: str
    description: str
    suffix: str
    mime: str
    write: Callable[[Any, Path], None]

    @property
    def is_image(self) -> bool:
        return self.suffix == ".png"


IMAGE_GRID = SampleKind("image_grid", "a grid of generated images (a row per label or code where there is one)",
                        ".png", "image/png", _write_image_grid)
IMAGE_PAIRS = SampleKind("image_pairs", "held-out inputs beside their translations (and targets or the way back)",
                         ".png", "image/png", _write_image_grid)
REFINED_PAIRS = SampleKind("refined_pairs", "held-out synthetic inputs beside their refinements and what changed",
                          ".png", "image/png", _write_image_grid)
TEXT_LINES = SampleKind("text_lines", "generated sequences, one per line", ".txt", "text/plain", _write_lines)
RANKED_LISTS = SampleKind("ranked_lists", "ranked item lists for a few users", ".json", "application/json", _write_json)

KINDS = {kind.name: kind for kind in (IMAGE_GRID, IMAGE_PAIRS, REFINED_PAIRS, TEXT_LINES, RANKED_LISTS)}
