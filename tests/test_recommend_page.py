"""The /recommend page through Streamlit's AppTest, on a tiny IRGAN trained on ratings the test writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from app_testing import open_app_page
from streamlit.testing.v1 import AppTest
from test_irgan_variant import TINY, write_ratings

from gan_core.registry import config_for
from gan_core.training import train

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> Path:
    """A checkpoints folder holding only a tiny ranking model and its training log, as a shipped one is kept."""
    ratings = write_ratings(tmp_path_factory.mktemp("ml") / "ml-100k")
    run = tmp_path_factory.mktemp("irgan") / "run"
    assert train(config_for("irgan", data_root=str(ratings), **TINY), run).status == "finished"
    folder = tmp_path_factory.mktemp("checkpoints")
    shutil.copy(run / "generator.safetensors", folder / "irgan-tiny.safetensors")
    shutil.copy(run / "metrics.jsonl", folder / "irgan-tiny.metrics.jsonl")
    return folder


@pytest.fixture
def page(monkeypatch, tmp_path, checkpoints) -> AppTest:
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(checkpoints))
    return open_app_page("app_pages/recommend.py")


def test_first_load_shows_both_top_lists_the_scores_and_the_curves(page):
    assert [element.value for element in page.subheader] == ["IRGAN (generator)", "BPR", "How this model trained"]
    tables = [element.value for element in page.dataframe]
    liked, irgan, bpr = tables
    assert len(irgan) == len(bpr) == 10 and list(irgan["rank"]) == list(range(1, 11))
    assert all(title.startswith("Movie ") for title in irgan["movie"])
    assert set(irgan["movie"]).isdisjoint(set(liked["movie"])), "movies rated in training are never recommended"
    assert len(page.get("plotly_chart")) == 3  # D loss, mean reward, held-out P@5
    assert not page.error


def test_choosing_another_user_changes_the_lists(page):
    before = page.dataframe[1].value.copy()
    page.number_input(key="recommend.user").set_value(2).run()
    assert not page.exception and not page.error
    assert "User 2 liked" in page.expander[0].label
    after = page.dataframe[1].value
    assert list(after["movie"]) != list(before["movie"]) or list(after["score"]) != list(before["score"])


def test_random_user_picks_a_valid_user(page):
    page.button(key="recommend.random").click().run()
    assert not page.exception and not page.error
    assert 1 <= page.number_input(key="recommend.user").value <= 30


def test_missing_ratings_are_an_error_message_not_a_traceback(monkeypatch, tmp_path):
    ratings = write_ratings(tmp_path / "ml-100k")
    run = tmp_path / "run"
    assert train(config_for("irgan", data_root=str(ratings), **{**TINY, "steps": 2}), run).status == "finished"
    shutil.rmtree(ratings)  # the ratings the model was trained on are gone
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    shutil.copy(run / "generator.safetensors", folder / "irgan-tiny.safetensors")
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(folder))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/recommend.py")
    at.run()
    assert not at.exception
    assert "pip install --no-deps recbole" in at.error[0].value
