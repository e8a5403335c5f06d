"""The playground page runs on first load, and its controls drive the session in st.session_state."""

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "playground.py")


@pytest.fixture
def page():
    app = AppTest.from_file(PAGE, default_timeout=60)
    # small networks keep the test quick; the widgets are the page's own
    app.session_state["toy_width"] = 16
    app.session_state["toy_depth"] = 1
    app.session_state["toy_batch"] = 64
    app.run()
    assert not app.exception
    return app


def fake_points(app) -> np.ndarray:
    for chart in app.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            if trace.get("name") == "fake":
                return np.stack([_decode(trace["x"]), _decode(trace["y"])])
    raise AssertionError("no fake points drawn")


def _decode(values) -> np.ndarray:
    """Plotly sends numpy arrays as {"dtype", "bdata": base64}; plain lists stay lists."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).astype(float)
    return np.asarray(values, dtype=float)


def test_first_load_draws_a_session(page):
    gan = page.session_state["toy_gan"]
    assert gan.steps == 0 and not gan.playing
    assert len(page.get("plotly_chart")) >= 3
    assert not page.error


def test_change_target_objective_and_step(page):
    page.selectbox(key="toy_target").select("grid25").run()
    page.selectbox(key="toy_objective").select("wgan_gp").run()
    gan = page.session_state["toy_gan"]
    assert gan.target.centres.shape == (25, 2) and gan.config.objective == "wgan_gp"
    before = fake_points(page)
    page.button(key="toy_step").click().run()
    assert not page.exception and gan.steps == 1
    page.button(key="toy_step_d").click().run()
    assert gan.d_updates == 2 and gan.steps == 1
    assert not np.allclose(fake_points(page), before)


def test_play_trains_and_pause_stops(page):
    before = fake_points(page)
    page.button(key="toy_play").click().run()
    gan = page.session_state["toy_gan"]
    assert gan.playing and gan.steps > 0 and not page.exception
    assert not np.allclose(fake_points(page), before)
    page.button(key="toy_play").click().run()
    steps = gan.steps
    page.run()
    assert not gan.playing and gan.steps == steps


def test_learning_rate_changes_live(page):
    page.button(key="toy_step").click().run()
    page.select_slider(key="toy_lr_g").set_value(5e-3).run()
    gan = page.session_state["toy_gan"]
    assert gan.steps == 1 and gan.optimizer_g.param_groups[0]["lr"] == 5e-3


def test_user_points_target(page):
    page.selectbox(key="toy_target").select("points").run()
    assert not page.exception and not page.error
    assert page.session_state["toy_gan"].target.centres.shape == (3, 2)


def test_objective_loads_its_own_defaults_and_budget_is_live(page):
    from gan_core.toy2d import default_config

    page.selectbox(key="toy_objective").select("wgan_gp").run()
    tuned = default_config("wgan_gp")
    gan = page.session_state["toy_gan"]
    assert not page.exception
    assert (gan.config.lr_g, gan.config.lr_d, gan.config.d_steps, gan.config.optimizer) == (
        tuned.lr_g,
        tuned.lr_d,
        tuned.d_steps,
        tuned.optimizer,
    )
    page.button(key="toy_step").click().run()
    page.select_slider(key="toy_budget").set_value(1000).run()
    assert gan.steps == 1 and gan.config.budget == 1000
    page.select_slider(key="toy_budget").set_value(0).run()
    assert gan.config.budget == 0 and gan.lr_factor == 1.0 and not page.exception
