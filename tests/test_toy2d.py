"""The 2-D playground engine: targets, mode metrics, stepping semantics, live retuning, CSV errors."""

import base64

import numpy as np
import pytest
import torch

from gan_core.errors import ConfigError
from gan_core.toy2d import (
    OBJECTIVE_DEFAULTS,
    OBJECTIVES,
    TARGETS,
    ToyConfig,
    ToyGan,
    default_config,
    make_target,
    mode_metrics,
    parse_points_csv,
)
from gan_core.toy2d.board import FAKE, REAL, board_data_url, board_jpeg, heat_colours, render_board
from gan_core.toy2d.view import View, snapshot

SMALL = ToyConfig(width=16, depth=2, batch_size=32, eval_every=5)


def _parameters(net: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten().clone() for p in net.parameters()])


@pytest.mark.parametrize("name", list(TARGETS))
def test_targets_sample_2d_points(name):
    target = make_target(name)
    points = target.sample(100, torch.Generator().manual_seed(0))
    assert points.shape == (100, 2) and torch.isfinite(points).all()
    assert points.abs().max() < target.extent


def test_mode_targets_know_their_centres():
    assert TARGETS["ring8"].centres.shape == (8, 2) and TARGETS["grid25"].centres.shape == (25, 2)
    assert not TARGETS["spiral"].has_modes


def test_all_modes_captured_on_real_samples():
    target = TARGETS["grid25"]
    samples = target.sample(2500, torch.Generator().manual_seed(1)).numpy()
    metrics = mode_metrics(samples, target.centres, target.sigma)
    assert metrics.captured == 25 and metrics.high_quality > 0.98 and metrics.kl_to_uniform < 0.02


def test_collapse_to_one_mode_captures_one():
    target = TARGETS["ring8"]
    samples = np.tile(target.centres[3], (2500, 1)) + 0.01
    metrics = mode_metrics(samples, target.centres, target.sigma)
    assert metrics.captured == 1 and metrics.high_quality == 1.0
    assert metrics.kl_to_uniform == pytest.approx(np.log(8))


def test_samples_far_from_modes_are_not_high_quality():
    metrics = mode_metrics(np.full((100, 2), 10.0), TARGETS["ring8"].centres, 0.05)
    assert metrics.captured == 0 and metrics.high_quality == 0.0


@pytest.mark.parametrize("objective", list(OBJECTIVES))
def test_each_objective_steps_finitely(objective):
    gan = ToyGan(ToyConfig(objective=objective, width=16, depth=2, batch_size=32, d_steps=2))
    gan.step(3)
    assert gan.steps == 3 and gan.d_updates == 6
    assert all(np.isfinite(value) for row in gan.history for value in row.values())
    assert torch.isfinite(_parameters(gan.generator)).all()
    if objective == "wgan_clip":
        assert _parameters(gan.discriminator).abs().max() <= gan.config.clip + 1e-7


def test_step_d_moves_only_d_and_step_g_only_g():
    gan = ToyGan(SMALL)
    g_before, d_before = _parameters(gan.generator), _parameters(gan.discriminator)
    gan.step_d()
    assert torch.equal(_parameters(gan.generator), g_before)
    assert not torch.equal(_parameters(gan.discriminator), d_before)
    d_after = _parameters(gan.discriminator)
    gan.step_g()
    assert torch.equal(_parameters(gan.discriminator), d_after)
    assert not torch.equal(_parameters(gan.generator), g_before)


def test_tick_steps_only_while_playing():
    gan = ToyGan(SMALL)
    assert not gan.tick(4) and gan.steps == 0
    gan.play()
    assert gan.tick(4) and gan.steps == 4
    gan.pause()
    assert not gan.tick(4) and gan.steps == 4


def test_same_seed_same_run_and_reset_restarts():
    first, second = ToyGan(SMALL), ToyGan(SMALL)
    first.step(5)
    second.step(5)
    assert torch.equal(_parameters(first.generator), _parameters(second.generator))
    first.reset()
    assert first.steps == 0 and first.history == []
    assert torch.equal(_parameters(first.generator), _parameters(ToyGan(SMALL).generator))


def test_session_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ToyGan(ToyConfig(objective="wgan_gp", width=16, depth=2, batch_size=32)).step(2)
    assert torch.equal(torch.rand(3), expected)


def test_learning_rate_change_applies_without_reset():
    gan = ToyGan(SMALL)
    gan.step(2)
    changed = gan.configure(ToyConfig(**{**SMALL.__dict__, "lr_g": 5e-3, "lr_d": 2e-4}))
    assert not changed and gan.steps == 2
    assert gan.optimizer_g.param_groups[0]["lr"] == 5e-3 and gan.optimizer_d.param_groups[0]["lr"] == 2e-4


def test_budget_stops_play_and_decays_learning_rates_to_zero():
    gan = ToyGan(ToyConfig(**{**SMALL.__dict__, "budget": 10, "lr_decay_start": 0.5}))
    lr_g, lr_d = gan.config.lr_g, gan.config.lr_d
    gan.play()
    assert gan.tick(5) and gan.steps == 5 and gan.playing
    assert gan.optimizer_g.param_groups[0]["lr"] == lr_g  # the last update before the decay
    gan.tick(1)
    assert gan.optimizer_g.param_groups[0]["lr"] == pytest.approx(lr_g * 5 / 6)
    assert gan.optimizer_d.param_groups[0]["lr"] == pytest.approx(lr_d * 5 / 6)
    assert gan.tick(20) and gan.steps == 10 and not gan.playing and gan.finished
    assert gan.lr_factor == 0.0
    gan.play()
    assert not gan.tick(3) and gan.steps == 10 and not gan.playing
    before = _parameters(gan.generator)
    gan.step(1)  # by hand past the budget: the rates are 0, nothing moves
    assert torch.equal(_parameters(gan.generator), before)


def test_budget_is_live_and_no_decay_keeps_rates():
    gan = ToyGan(ToyConfig(**{**SMALL.__dict__, "budget": 4, "lr_decay_start": 1.0}))
    gan.play()
    gan.tick(10)
    assert gan.steps == 4 and gan.finished and gan.lr_factor == 1.0
    assert not gan.configure(ToyConfig(**{**SMALL.__dict__, "budget": 0, "lr_decay_start": 1.0}))
    assert not gan.finished and gan.steps == 4
    gan.play()
    assert gan.tick(3) and gan.steps == 7


def test_learning_rate_change_during_decay_keeps_the_schedule():
    gan = ToyGan(ToyConfig(**{**SMALL.__dict__, "budget": 10, "lr_decay_start": 0.5}))
    gan.step(7)
    gan.configure(ToyConfig(**{**SMALL.__dict__, "budget": 10, "lr_decay_start": 0.5, "lr_g": 4e-3}))
    assert gan.optimizer_g.param_groups[0]["lr"] == pytest.approx(4e-3 * gan.lr_factor) and 0 < gan.lr_factor < 1


def test_objective_defaults():
    assert default_config() == ToyConfig()
    for objective in OBJECTIVES:
        config = default_config(objective, target="grid25")
        config.validate()
        assert config.objective == objective and config.target == "grid25"
        for name, value in OBJECTIVE_DEFAULTS.get(objective, {}).items():
            assert getattr(config, name) == value
    with pytest.raises(ConfigError):
        default_config("nope")


@pytest.mark.parametrize("field", [{"budget": -1}, {"lr_decay_start": 1.5}, {"lr_decay_start": -0.1}])
def test_bad_schedule_is_a_config_error(field):
    with pytest.raises(ConfigError):
        ToyConfig(**field).validate()


def test_structural_change_resets():
    gan = ToyGan(SMALL)
    gan.step(2)
    assert gan.configure(ToyConfig(**{**SMALL.__dict__, "width": 8})) and gan.steps == 0


def test_snapshot_has_everything_to_draw():
    for noise_dim in (1, 2, 3):
        gan = ToyGan(ToyConfig(**{**SMALL.__dict__, "noise_dim": noise_dim}))
        view = snapshot(gan, grid_size=20, points=50)
        assert view.heat.shape == (20, 20) and view.fake.shape == (50, 2) and view.arrow_tips.shape == (50, 2)
        assert len(view.noise_lines) == (1 if noise_dim == 1 else 18)
        assert view.metrics is not None and np.isfinite(view.heat).all()
    assert {"KL", "JS", "modes", "high_quality"} <= set(gan.evaluations[-1])


def _still_view(heat: np.ndarray, probability: bool = True) -> View:
    """A hand-made view: one real point at (-1, 1), one fake point at (1, -1), nothing else."""
    return View(extent=2.0, real=np.array([[-1.0, 1.0]]), fake=np.array([[1.0, -1.0]]), heat_axis=np.linspace(-2, 2, len(heat)),
                heat=heat, heat_is_probability=probability, arrow_tips=np.array([[1.0, -1.0]]), noise_lines=[],
                metrics=None, steps=0)


def test_board_puts_points_where_they_are_with_y_up():
    picture = np.asarray(render_board(_still_view(np.full((4, 4), 0.5)), size=100)).astype(int)
    real, fake = picture[25, 25], picture[75, 75]  # (-1, 1) is up and left, (1, -1) down and right
    assert np.abs(real - REAL).max() < 30 and np.abs(fake - FAKE).max() < 30
    assert np.abs(picture[50, 10] - 247).max() < 6  # D(x) = 0.5: the scale's white middle


def test_board_background_runs_from_red_where_d_says_fake_to_blue_where_it_says_real():
    rows = np.linspace(0.0, 1.0, 8)[:, None].repeat(8, axis=1)  # D grows with y (row 0 is the lowest y)
    picture = np.asarray(render_board(_still_view(rows), size=80)).astype(int)
    top, bottom = picture[3, 40], picture[76, 40]
    assert top[2] > top[0] + 40 and bottom[0] > bottom[2] + 40  # blue above (says real), red below (says fake)
    critic = heat_colours(np.array([[-7.0, 0.0, 3.5]]), is_probability=False)[0]
    assert critic[0, 0] > critic[0, 2] and critic[2, 2] > critic[2, 0] and abs(int(critic[1, 0]) - int(critic[1, 2])) < 3
    assert board_jpeg(_still_view(rows), size=64)[:2] == b"\xff\xd8"  # a JPEG


def test_the_board_travels_inline_as_a_data_url_of_its_jpeg():
    view = _still_view(np.full((4, 4), 0.5))
    header, encoded = board_data_url(view, size=64).split(",", 1)
    assert header == "data:image/jpeg;base64"
    assert base64.b64decode(encoded) == board_jpeg(view, size=64)


def test_user_points_target():
    target = make_target("points", np.array([[0.0, 0.0], [1.0, 1.0]]))
    gan = ToyGan(ToyConfig(**{**SMALL.__dict__, "target": "points"}), target)
    gan.step(1)
    assert target.centres.shape == (2, 2)
    with pytest.raises(ConfigError, match="at least one point"):
        make_target("points", np.zeros((0, 2)))


def test_csv_parsing_with_and_without_header():
    assert parse_points_csv("x,y\n1,2\n3.5,-4\n").tolist() == [[1.0, 2.0], [3.5, -4.0]]
    assert parse_points_csv(b"1,2,label\n3,4,b\n").shape == (2, 2)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"x,y\n", "no points"),
        (b"x,y\n1,2\n3\n", "row 3 has 1 column"),
        (b"x,y\n1,abc\n", "row 2: '1', 'abc' are not numbers"),
        (b"1,2\nnan,3\n", "row 2: x and y must be finite"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_csv_errors_say_what_is_wrong(data, message):
    with pytest.raises(ConfigError, match=message):
        parse_points_csv(data)


def test_unknown_names_are_config_errors():
    with pytest.raises(ConfigError):
        ToyGan(ToyConfig(objective="nope"))
    with pytest.raises(ConfigError):
        make_target("nope")
