"""Adversarial objectives, each exactly as its paper states it, and the penalties that go with them.

Discriminator outputs are raw scores (logits or critic values); the sigmoid lives inside the loss,
which is both numerically safer and faster than a Sigmoid layer followed by BCELoss. Every
discriminator loss is returned as its two named halves, `D_real` and `D_fake`. Scores are taken in
float32 whatever precision the networks ran in (bf16 autocast), so the losses and their gradients are.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from gan_core.errors import ConfigError


def bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    """The log loss of logits against one constant target (1 real, 0 fake), without a sigmoid that could saturate."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def discriminator_terms(
    objective: str, real_scores: torch.Tensor, fake_scores: torch.Tensor, label_smoothing: float = 0.0
) -> dict[str, torch.Tensor]:
    """The discriminator's (critic's) loss on real and on fake samples, to be summed and minimised.

    - minimax / nonsaturating (Goodfellow 2014): -log D(x) - log(1 - D(G(z))); the two differ only for G.
    - least_squares (Mao 2017, a=0, b=1): ½(D(x) - 1)² + ½D(G(z))².
    - wasserstein (Arjovsky 2017): -E[C(x)] + E[C(G(z))].
    - hinge (Lim & Ye 2017; Miyato 2018): E[relu(1 - C(x))] + E[relu(1 + C(G(z)))].
    One-sided label smoothing (Salimans 2016) lowers only the real target, and only where a target exists.
    """
    real_scores, fake_scores = real_scores.float(), fake_scores.float()
    real_target = 1.0 - label_smoothing
    if objective in ("minimax", "nonsaturating"):
        return {"D_real": bce(real_scores, real_target), "D_fake": bce(fake_scores, 0.0)}
    if objective == "least_squares":
        return {
            "D_real": 0.5 * (real_scores - real_target).pow(2).mean(),
            "D_fake": 0.5 * fake_scores.pow(2).mean(),
        }
    if objective == "wasserstein":
        return {"D_real": -real_scores.mean(), "D_fake": fake_scores.mean()}
    if objective == "hinge":
        return {"D_real": F.relu(1.0 - real_scores).mean(), "D_fake": F.relu(1.0 + fake_scores).mean()}
    raise ConfigError(f"unknown objective {objective!r}")


def generator_loss(objective: str, fake_scores: torch.Tensor) -> torch.Tensor:
    """The generator's adversarial loss `G_GAN`, minimised.

    - minimax: log(1 - D(G(z))), the original saturating form.
    - nonsaturating: -log D(G(z)), the paper's practical recommendation.
    - least_squares: ½(D(G(z)) - 1)².
    - wasserstein and hinge: -E[C(G(z))].
    """
    fake_scores = fake_scores.float()
    if objective == "minimax":
        return -bce(fake_scores, 0.0)
    if objective == "nonsaturating":
        return bce(fake_scores, 1.0)
    if objective == "least_squares":
        return 0.5 * (fake_scores - 1.0).pow(2).mean()
    if objective in ("wasserstein", "hinge"):
        return -fake_scores.mean()
    raise ConfigError(f"unknown objective {objective!r}")


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor
) -> torch.Tensor:
    """WGAN-GP (Gulrajani 2017): E[(‖∇C(x̂)‖₂ - 1)²] at random interpolates x̂ of real and fake.

    The critic's pass on the interpolates and its gradient run in float32 even inside bf16 autocast: the
    penalty is a distance of a gradient norm from 1, and bf16's 8-bit mantissa puts an error of up to 0.4%
    into that norm, which the square then weighs against a target of exactly 1.
    """
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    mix = torch.rand(shape, device=real.device, dtype=torch.float32)
    with torch.autocast(real.device.type, enabled=False):
        interpolates = (mix * real.float() + (1.0 - mix) * fake.float()).requires_grad_(True)
        scores = critic(interpolates).float()
        (gradients,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)
        norms = gradients.flatten(1).norm(2, dim=1)
        return (norms - 1.0).pow(2).mean()


def probabilities(objective: str, scores: torch.Tensor) -> torch.Tensor:
    """Mean D(·) as a probability where the objective has one, else the mean raw score."""
    if objective in ("minimax", "nonsaturating"):
        return torch.sigmoid(scores).mean()
    return scores.mean()
