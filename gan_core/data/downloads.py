"""Before a job starts: is a downloadable dataset already on disk, or can this computer reach its server?

A job that needs a download it cannot make would fail seconds after it started, with the user already
looking at an empty dashboard. Checked at Start instead (`training.preflight`): a dataset that is cached is
fine; one that is not needs its server to answer a TCP connection within a few seconds.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from gan_core.errors import DatasetUnavailableError

CONNECT_SECONDS = 3.0


def reachable(url: str, timeout: float = CONNECT_SECONDS) -> bool:
    """True when the host of `url` accepts a TCP connection within `timeout` seconds."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_cached_or_reachable(name: str, cached: bool, url: str, where: str, instead: str) -> None:
    """Raise, before any job exists, when `name` is neither on disk nor downloadable from `url` now."""
    if cached or reachable(url):
        return
    host = urlsplit(url).hostname
    raise DatasetUnavailableError(
        f"dataset {name!r} is not downloaded yet ({where}) and this computer cannot reach {host} to download it. "
        f"Connect to the internet, or {instead}", field="dataset")
