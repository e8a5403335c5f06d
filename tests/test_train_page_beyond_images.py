"""The Train page trains variants that are not about images: IRGAN on MovieLens-100K from the form to the end,
with its curves and its ranked-list preview (skipped where MovieLens is not installed); SeqGAN's form."""

from __future__ import annotations

import importlib.util

import pytest
from app_testing import open_app_page
from job_waiting import wait_for_table_status
from streamlit.testing.v1 import AppTest


@pytest.fixture
def train_page(monkeypatch, tmp_path) -> AppTest:
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path / "checkpoints"))
    return open_app_page("app_pages/train.py")


@pytest.mark.skipif(importlib.util.find_spec("recbole") is None, reason="MovieLens-100K is not installed")
def test_irgan_trains_from_the_form_with_curves_and_ranked_lists(train_page):
    at = train_page
    at.selectbox(key="variant").select("irgan").run()
    assert at.selectbox(key="dataset.irgan").value == "ml100k"
    labels = {element.label for element in at.number_input} | {element.label for element in at.selectbox}
    assert "image size" not in labels and "warmup steps" in labels
    for field, value in {"steps": 4, "log_every": 1, "sample_every": 2, "checkpoint_every": 2, "pretrain_epochs": 1,
                         "bpr_epochs": 1, "warmup_steps": 1, "eval_every": 2}.items():
        at.number_input(key=f"irgan.{field}").set_value(value)
    at.selectbox(key="irgan.device").select("cpu")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.success and "Started job" in at.success[0].value
    assert wait_for_table_status(at, ("finished", "failed"), timeout_s=240, poll_s=1.0) == "finished", at.caption
    titles = {chart.proto.spec for chart in at.get("plotly_chart")}
    assert any("held_out_P@5" in spec for spec in titles) and any("reward_mean" in spec for spec in titles)
    preview = at.dataframe[-1].value
    assert {"user", "rank", "title", "held_out_hit"} <= set(preview.columns) and len(preview) > 0


def test_seqgan_form_offers_its_data_and_settings(train_page):
    at = train_page
    at.selectbox(key="variant").select("seqgan").run()
    assert not at.exception
    assert [option.split(":")[0] for option in at.selectbox(key="dataset.seqgan").options] == ["seqgan_oracle", "tang_poems"]
    assert at.number_input(key="seqgan.rollout_count").value == 16
    assert "image size" not in {element.label for element in at.number_input}
