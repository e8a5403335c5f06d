"""The 2-D playground (GAN Lab style): toy targets, a steppable GAN session, and mode-coverage metrics."""

from gan_core.toy2d.metrics import ModeMetrics, divergences, mode_metrics
from gan_core.toy2d.model import OBJECTIVES, OPTIMIZERS, ToyConfig, ToyGan
from gan_core.toy2d.targets import TARGETS, Target, make_target, parse_points_csv, points_target

__all__ = [
    "OBJECTIVES",
    "OPTIMIZERS",
    "TARGETS",
    "ModeMetrics",
    "Target",
    "ToyConfig",
    "ToyGan",
    "divergences",
    "make_target",
    "mode_metrics",
    "parse_points_csv",
    "points_target",
]
