"""The 2-D playground (GAN Lab style): toy targets, a steppable GAN session, and mode-coverage metrics."""

from gan_core.toy2d.metrics import ModeMetrics, divergences, mode_metrics
from gan_core.toy2d.model import OBJECTIVE_DEFAULTS, OBJECTIVES, OPTIMIZERS, ToyConfig, ToyGan, default_config
from gan_core.toy2d.targets import TARGETS, Target, make_target, parse_points_csv, points_target

__all__ = [
    "OBJECTIVES",
    "OBJECTIVE_DEFAULTS",
    "OPTIMIZERS",
    "TARGETS",
    "ModeMetrics",
    "Target",
    "ToyConfig",
    "ToyGan",
    "default_config",
    "divergences",
    "make_target",
    "mode_metrics",
    "parse_points_csv",
    "points_target",
]
