"""The real app opened at one page in Streamlit's AppTest, as the page tests open it."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
HOME = "app_pages/home.py"


def open_app_page(page: str, timeout_s: float = 60) -> AppTest:
    """app.py (so the shared sidebar and navigation run too) at `page`, e.g. "app_pages/style.py", run once and
    checked for an exception. The home page is the app's default, so it needs no switch."""
    at = AppTest.from_file(APP, default_timeout=timeout_s)
    if page != HOME:
        at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at
