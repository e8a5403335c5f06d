"""2-D playground: watch a small GAN learn a 2-D distribution, step by step or live (after GAN Lab).

Read top to bottom: controls, the target's points (for "your points"), the buttons, then the live
view, which asks for 12.5 redraws a second while playing so that at least ten reach the screen on this
2-core machine (the browser merges some; `python -m benchmarks.playground_views`, BENCHMARKS.md).
"""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_shell import run_inside_app
from gan_core.errors import GanStudioError
from gan_core.toy2d import OBJECTIVES, OPTIMIZERS, ToyConfig, ToyGan, default_config, parse_points_csv, points_target
from gan_core.toy2d.board import board_data_url
from gan_core.toy2d.lessons import LESSONS
from gan_core.toy2d.view import scores_are_probabilities, snapshot

run_inside_app()

TARGET_LABELS = {
    "ring8": "Ring of 8 Gaussians",
    "grid25": "5×5 grid of 25 Gaussians",
    "spiral": "Spiral",
    "moons": "Two moons",
    "points": "Your points",
}
LEARNING_RATES = [1e-5, 3e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 3e-2, 0.1]
BUDGETS = [0, 1000, 2000, 3000, 5000, 8000, 10000, 20000, 50000]
STARTER_POINTS = np.array([[-1.0, -0.6], [1.0, -0.6], [0.0, 1.1]], dtype=np.float32)
PICK_EXTENT = 3.0
STEPS_PER_REFRESH = 2
# Asked for more often than ten times a second: the browser merges a redraw into the next now and then. Asked
# at 0.065 s, the two cores were saturated and fewer redraws arrived than at 0.08 s (8.3 against 9.7 a second).
BOARD_SECONDS = 0.08
# The curves cost the browser a tenth of a second per redraw, long enough to merge a board redraw; every
# 2 s instead of every second was the difference between 9.7 and 9.9 board redraws a second.
CURVE_SECONDS = 2.0
BOARD_PIXELS = 520
DEFAULTS = default_config()
# The knobs that take each objective's own starting values when the objective changes.
TUNED_KEYS = {"toy_optimizer": "optimizer", "toy_lr_g": "lr_g", "toy_lr_d": "lr_d", "toy_d_steps": "d_steps"}
# Every widget that shows a ToyConfig field: its session key and the field. A lesson sets them all.
FIELD_KEYS = {"toy_target": "target", "toy_objective": "objective", **TUNED_KEYS, "toy_batch": "batch_size",
              "toy_budget": "budget", "toy_decay": "lr_decay_start", "toy_depth": "depth", "toy_width": "width",
              "toy_noise_dim": "noise_dim", "toy_seed": "seed"}


def board_legend(probability: bool) -> str:
    """What the board's colours mean, as the caption under it (outside the live part: it changes only with
    the objective, and every element redrawn ten times a second costs the browser)."""
    surface = ("D(x), from red (says fake) to blue (says real)" if probability
               else "the critic's score, from red (low) to blue (high)")
    return (f"Background: {surface}. :green[●] real points, :violet[●] generated points with "
            "G's gradient (where D pushes each one), grey lines: a grid of the noise space as G bends it.")


def curves(rows: list[dict[str, float]], names: list[str], title: str, points: int = 300) -> go.Figure:
    """Series of `rows` over the generator step; the last 1,500 rows, thinned to about `points` per series.

    Cheap for the browser on purpose (it redraws these every second): few points, fixed margins and the
    legend inside the plot, so plotly does not re-fit the layout on every redraw."""
    frame = pd.DataFrame(rows[-1500:])
    frame = frame.iloc[:: max(1, len(frame) // points)]
    fig = go.Figure()
    for name in names:
        if name in frame:
            fig.add_trace(go.Scatter(x=frame["step"].to_numpy(), y=frame[name].to_numpy(), mode="lines", name=name))
    fig.update_layout(
        height=250,
        margin={"l": 50, "r": 10, "t": 30, "b": 40, "autoexpand": False},
        title=title,
        legend={"x": 1.0, "xanchor": "right", "y": 1.0, "bgcolor": "rgba(0,0,0,0)"},
        xaxis={"title": "generator step"},
    )
    return fig


def point_picker() -> go.Figure:
    """A faint lattice to click, box or lasso: the chosen lattice points become target points."""
    axis = np.linspace(-PICK_EXTENT, PICK_EXTENT, 25)
    lattice_x, lattice_y = np.meshgrid(axis, axis)
    points = st.session_state["toy_points"]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=lattice_x.ravel(),
            y=lattice_y.ravel(),
            mode="markers",
            name="click to add",
            marker={"size": 7, "color": "rgba(150,150,150,0.25)"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=points[:, 0],
            y=points[:, 1],
            mode="markers",
            name="target points",
            marker={"size": 10, "color": "#2ca02c"},
        )
    )
    fig.update_layout(
        height=330,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        showlegend=False,
        yaxis={"scaleanchor": "x"},
        clickmode="event+select",
    )
    return fig


def set_points(points: np.ndarray) -> None:
    st.session_state["toy_points"] = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    st.session_state["toy_points_version"] += 1


def load_lesson() -> None:
    """A lesson sets every control to its settings and starts a fresh session (paused, at step 0)."""
    config = LESSONS[st.session_state["toy_lesson"]].config()
    for key, name in FIELD_KEYS.items():
        st.session_state[key] = getattr(config, name)
    st.session_state.pop("toy_gan", None)


def load_objective_defaults() -> None:
    """Switching objective loads that objective's starting optimizer, learning rates and D steps."""
    tuned = default_config(st.session_state["toy_objective"])
    for key, name in TUNED_KEYS.items():
        st.session_state[key] = getattr(tuned, name)


st.title("2-D playground")
st.caption(
    "A small GAN learns a 2-D distribution. Green: real samples; purple: the generator's; the "
    "background is the discriminator; lines from purple points show where the generator is pushed."
)
st.session_state.setdefault("toy_points", STARTER_POINTS)
for key, name in FIELD_KEYS.items():  # set here, not as widget defaults, so lessons and objectives can change them
    st.session_state.setdefault(key, getattr(DEFAULTS, name))
st.session_state.setdefault("toy_points_version", 0)

# The lesson and the two essential choices sit on the page, not in the sidebar: on a narrow screen the sidebar
# is collapsed, and a newcomer should still see what is being trained.
lesson_column, target_column, objective_column = st.columns([2, 1, 1])
lesson = lesson_column.selectbox("Lesson", range(len(LESSONS)), format_func=lambda index: LESSONS[index].title,
                                 key="toy_lesson", on_change=load_lesson,
                                 help="Each lesson sets every control and starts afresh; press Play and watch.")
target = target_column.selectbox("Target", list(TARGET_LABELS), format_func=TARGET_LABELS.get, key="toy_target")
objective = objective_column.selectbox(
    "Objective",
    list(OBJECTIVES),
    format_func=lambda key: OBJECTIVES[key][1],
    key="toy_objective",
    on_change=load_objective_defaults,
    help="Each objective starts from its own optimizer, learning rates and D steps (BENCHMARKS.md).",
)
st.info(f"**What to watch:** {LESSONS[lesson].watch}")

with st.sidebar:
    st.header("Playground")
    optimizer = st.selectbox("Optimizer", OPTIMIZERS, key="toy_optimizer")
    lr_g = st.select_slider("Generator learning rate", LEARNING_RATES, key="toy_lr_g")
    lr_d = st.select_slider("Discriminator learning rate", LEARNING_RATES, key="toy_lr_d")
    d_steps = st.slider("D steps per G step", 1, 10, key="toy_d_steps")
    batch_size = st.select_slider("Batch size", [32, 64, 128, 256, 512, 1024], key="toy_batch")
    steps_per_refresh = st.slider(
        "Steps per refresh",
        1,
        20,
        STEPS_PER_REFRESH,
        key="toy_speed",
        help="Training rounds per screen refresh (about 12 refreshes a second while playing).",
    )
    budget = st.select_slider(
        "Step budget",
        BUDGETS,
        format_func=lambda steps: "no limit" if steps == 0 else f"{steps:,}",
        key="toy_budget",
        help="Play stops after this many generator steps.",
    )
    lr_decay_start = st.slider(
        "Learning-rate decay from",
        0.0,
        1.0,
        step=0.05,
        format="%.2f",
        key="toy_decay",
        disabled=budget == 0,
        help="Share of the budget after which both learning rates fall linearly to 0 at the budget "
        "(1.00: no decay). Sharpens the modes at the end.",
    )
    st.subheader("Networks", help="Changing these restarts training.")
    depth = st.slider("Hidden layers", 1, 5, key="toy_depth")
    width = st.select_slider("Width", [8, 16, 32, 64, 128, 256], key="toy_width")
    noise_dim = st.slider(
        "Noise dimensions",
        1,
        8,
        key="toy_noise_dim",
        help="With more than 2, the drawn noise grid is a slice through the first two.",
    )
    seed = st.number_input("Seed", 0, 2**31 - 1, key="toy_seed")

custom_target = None
if target == "points":
    st.subheader("Your points")
    picker, table = st.columns([3, 2])
    with picker:
        event = st.plotly_chart(point_picker(), on_select="rerun", selection_mode=("points", "box", "lasso"), key="toy_picker")
        chosen = [(point["x"], point["y"]) for point in event.selection.points if point["curve_number"] == 0]
        if st.button("Add selected points", disabled=not chosen):
            set_points(np.vstack([st.session_state["toy_points"], np.array(chosen, dtype=np.float32)]))
            st.rerun()
    with table:
        edited = st.data_editor(
            pd.DataFrame(st.session_state["toy_points"], columns=["x", "y"]),
            num_rows="dynamic",
            key=f"toy_points_table_{st.session_state['toy_points_version']}",
            height=250,
        )
        upload = st.file_uploader("…or upload a CSV of x,y rows", type="csv", key="toy_csv")
        if upload is not None and st.session_state.get("toy_csv_seen") != upload.file_id:
            st.session_state["toy_csv_seen"] = upload.file_id
            try:
                set_points(parse_points_csv(upload.getvalue()))
                st.rerun()
            except GanStudioError as error:
                st.error(str(error))
    try:
        custom_target = points_target(edited[["x", "y"]].dropna().to_numpy(dtype=np.float32))
    except GanStudioError as error:
        st.error(str(error))
        st.stop()

config = ToyConfig(
    target=target,
    objective=objective,
    optimizer=optimizer,
    lr_g=lr_g,
    lr_d=lr_d,
    d_steps=d_steps,
    depth=depth,
    width=width,
    noise_dim=noise_dim,
    batch_size=batch_size,
    seed=int(seed),
    budget=budget,
    lr_decay_start=lr_decay_start if budget else 1.0,
)
if "toy_gan" not in st.session_state:
    st.session_state["toy_gan"] = ToyGan(config, custom_target)
gan: ToyGan = st.session_state["toy_gan"]
gan.configure(config, custom_target)

play, step_d, step_g, step_both, reset = st.columns(5)
play.button(
    "Pause" if gan.playing else "Play",
    type="primary",
    key="toy_play",
    on_click=gan.pause if gan.playing else gan.play,
    disabled=gan.finished and not gan.playing,
)
step_d.button("Step D", key="toy_step_d", on_click=gan.step_d, disabled=gan.playing)
step_g.button("Step G", key="toy_step_g", on_click=gan.step_g, disabled=gan.playing)
step_both.button("Step both", key="toy_step", on_click=gan.step, disabled=gan.playing)
reset.button("Reset", key="toy_reset", on_click=gan.reset)
if gan.finished:
    st.info(
        f"The step budget ({gan.config.budget:,} generator steps) is spent. Raise it to train on, or Reset."
        + (" The learning rates decayed to 0, so manual steps change nothing." if gan.lr_factor == 0 else "")
    )


@st.fragment(run_every=BOARD_SECONDS if gan.playing else None)
def live_board() -> None:
    """Trains `steps_per_refresh` rounds, then draws the board and the numbers (every BOARD_SECONDS while playing)."""
    if gan.tick(steps_per_refresh) and gan.finished:
        st.rerun()  # the whole page, so the buttons show that Play stopped at the budget
    view = snapshot(gan)
    board, numbers = st.columns([2, 1])
    board.image(board_data_url(view, BOARD_PIXELS))
    with numbers:
        st.metric("Generator steps", f"{gan.steps:,}" + (f" / {gan.config.budget:,}" if gan.config.budget else ""))
        st.caption(f"Learning rates at {gan.lr_factor:.0%} of the chosen values.")
        st.metric("Discriminator updates", gan.d_updates)
        if view.metrics is not None:
            st.metric("Modes captured", f"{view.metrics.captured} / {view.metrics.modes}")
            st.metric(
                "High-quality samples",
                f"{view.metrics.high_quality:.0%}",
                help="Share of samples within 3σ of some mode.",
            )
            kl = view.metrics.kl_to_uniform
            st.metric("KL(modes ‖ uniform)", f"{kl:.3f}" if np.isfinite(kl) else "—",
                      help="How far the samples' spread over the modes is from even (0: even). A dash until some "
                           "samples land near a mode: before that it is infinite.")
        else:
            st.caption("This target has no separate modes, so mode metrics do not apply.")


@st.fragment(run_every=CURVE_SECONDS if gan.playing else None)
def live_curves() -> None:
    """The loss and divergence curves, redrawn every CURVE_SECONDS while playing (a chart costs the browser far more
    than the board's picture, and a curve gains only a few points per redraw)."""
    losses, divergence = st.columns(2)
    losses.plotly_chart(curves(gan.history, ["D", "D_real", "D_fake", "G_GAN", "GP"], "Losses"), key="toy_losses")
    divergence.plotly_chart(curves(gan.evaluations, ["KL", "JS"], "Histogram KL(real ‖ fake) and JS"), key="toy_divergence")


live_board()
st.caption(board_legend(scores_are_probabilities(gan)))
live_curves()
