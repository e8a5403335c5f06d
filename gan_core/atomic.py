"""Files written whole or not at all: a crash or a full disk leaves the previous version intact."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from gan_core.errors import CheckpointError


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through `write(temporary_path)`, flush it to disk, then rename over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise CheckpointError(f"could not write {path.name}: {error.strerror or error}; free some disk space "
                              "or choose another output folder (the previous checkpoint is intact)") from error
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
