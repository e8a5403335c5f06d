"""The playground page runs on first load, and its controls drive the session in st.session_state."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "playground.py")


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


def board(app) -> str:
    """The board picture's media URL, which Streamlit names by a hash of the picture's bytes."""
    (url,) = [url for element in app.get("image") for url in element.value]
    return url


def test_first_load_draws_a_session(page):
    gan = page.session_state["toy_gan"]
    assert gan.steps == 0 and not gan.playing
    assert board(page) and len(page.get("plotly_chart")) == 2  # the board's picture, the two curve charts
    assert not page.error


def test_change_target_objective_and_step(page):
    page.selectbox(key="toy_target").select("grid25").run()
    page.selectbox(key="toy_objective").select("wgan_gp").run()
    gan = page.session_state["toy_gan"]
    assert gan.target.centres.shape == (25, 2) and gan.config.objective == "wgan_gp"
    before = board(page)
    page.button(key="toy_step").click().run()
    assert not page.exception and gan.steps == 1
    page.button(key="toy_step_d").click().run()
    assert gan.d_updates == 2 and gan.steps == 1
    assert board(page) != before


def test_play_trains_and_pause_stops(page):
    before = board(page)
    page.button(key="toy_play").click().run()
    gan = page.session_state["toy_gan"]
    assert gan.playing and gan.steps > 0 and not page.exception
    assert board(page) != before
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



def test_kl_to_uniform_shows_a_dash_until_samples_reach_a_mode(page):
    """An untrained generator puts no sample near the ring's modes: the KL is infinite, shown as a dash (#25)."""
    metrics = {metric.label: metric.value for metric in page.metric}
    assert metrics["Modes captured"] == "0 / 8"
    assert metrics["KL(modes ‖ uniform)"] == "—"


def test_a_lesson_loads_its_settings_into_every_control_and_starts_afresh(page):
    from gan_core.toy2d.lessons import LESSONS

    page.button(key="toy_step").click().run()
    assert page.session_state["toy_gan"].steps == 1
    collapse = next(index for index, lesson in enumerate(LESSONS) if lesson.title == "Mode collapse")
    page.selectbox(key="toy_lesson").select(collapse).run()
    assert not page.exception
    gan = page.session_state["toy_gan"]
    assert gan.steps == 0, "a lesson starts a fresh session"
    assert (gan.config.target, gan.config.objective, gan.config.budget, gan.config.lr_decay_start) == \
        ("grid25", "nonsaturating", 2000, 1.0)
    assert page.selectbox(key="toy_target").value == "grid25"
    assert page.select_slider(key="toy_budget").value == 2000
    assert "What to watch" in page.info[0].value and "Modes captured" in page.info[0].value
    strong = next(index for index, lesson in enumerate(LESSONS) if "too strong" in lesson.title)
    page.selectbox(key="toy_lesson").select(strong).run()
    gan = page.session_state["toy_gan"]
    assert (gan.config.d_steps, gan.config.lr_d, gan.config.lr_g) == (5, 5e-3, 1e-4)


def test_target_and_objective_are_on_the_page_not_only_in_the_sidebar(page):
    """At 400 px the sidebar is collapsed: the essential choices must be in the main area."""
    sidebar_keys = {element.key for element in page.sidebar.selectbox}
    main_keys = {element.key for element in page.main.selectbox}
    assert {"toy_lesson", "toy_target", "toy_objective"} <= main_keys
    assert not {"toy_target", "toy_objective"} & sidebar_keys
