"""What computing WGAN-GP's gradient penalty in float32 costs when the rest of the step runs in bf16.

Since #17 the penalty's critic pass on the interpolates runs with autocast off (`losses.gradient_penalty`), so
the penalty is exact under bf16 mixed precision. This script trains wgan_gp with `--precision bf16` both ways,
in alternating rounds in one process so background load hits both alike: as shipped (penalty in float32), and
with the penalty computed inside autocast as before (bf16 critic pass), which it patches in for its rounds.
It prints training images per second for each, their ratio, and the penalty both ways on one batch.

    python -m benchmarks.gp_precision                # 32×32 digits, batch 64, 60 steps a round, 3 rounds
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager

import torch

from gan_core import losses
from gan_core.data.catalogue import load_dataset
from gan_core.registry import config_for
from gan_core.training.trainer import Trainer

ShippedPenalty = losses.gradient_penalty


def penalty_inside_autocast(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                            fake: torch.Tensor) -> torch.Tensor:
    """The penalty as it was computed before: the critic pass on the interpolates under the step's autocast."""
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    mix = torch.rand(shape, device=real.device, dtype=torch.float32)
    interpolates = (mix * real + (1.0 - mix) * fake).requires_grad_(True)
    scores = critic(interpolates).float()
    (gradients,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)
    return (gradients.flatten(1).norm(2, dim=1) - 1.0).pow(2).mean()


@contextmanager
def penalty(implementation):
    losses.gradient_penalty = implementation
    try:
        yield
    finally:
        losses.gradient_penalty = ShippedPenalty


def images_per_second(steps: int, dataset, seed: int) -> float:
    config = config_for("wgan_gp", steps=steps, precision="bf16", device="cpu", seed=seed, log_every=steps,
                        sample_every=10**6, checkpoint_every=10**6)
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(config, folder, dataset=dataset)
        started = time.perf_counter()
        trainer.run()
        elapsed = time.perf_counter() - started
    return steps * config.n_critic * config.batch_size / elapsed


def penalty_gap(dataset) -> tuple[float, float]:
    """The penalty of one batch, float32 and inside bf16 autocast, on a fresh wgan_gp critic."""
    from gan_core.registry import get_variant

    torch.manual_seed(0)
    config = config_for("wgan_gp")
    model = get_variant("wgan_gp").model_class(config, dataset.image_shape, dataset.num_classes)
    real = dataset.images[:64].float().div(127.5).sub(1)
    fake = model.generator(model.layout.compose(**model.fake_inputs(64, torch.device("cpu")))).detach()
    critic = lambda x: model.discriminator(x, None)["adv"]  # noqa: E731
    values = []
    for implementation in (ShippedPenalty, penalty_inside_autocast):
        torch.manual_seed(1)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            values.append(float(implementation(critic, real, fake).detach()))
    return values[0], values[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60, help="generator steps a round (5 critic steps each)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dataset", default="digits")
    args = parser.parse_args()
    dataset = load_dataset(args.dataset, 32)
    images_per_second(5, dataset, 0)  # warm-up: first-call costs belong to neither side
    speeds: dict[str, list[float]] = {"float32 penalty (shipped)": [], "penalty inside bf16 autocast (before)": []}
    for round_index in range(args.rounds):
        for (name, results), implementation in zip(speeds.items(), (ShippedPenalty, penalty_inside_autocast)):
            with penalty(implementation):
                results.append(images_per_second(args.steps, dataset, round_index))
            print(f"round {round_index + 1}: {name}: {results[-1]:.0f} images/s", flush=True)
    print(f"wgan_gp, precision bf16, {args.dataset} 32×32, batch 64, {args.steps} G steps × {args.rounds} rounds, "
          f"{torch.get_num_threads()} threads")
    print("| penalty | images/s (median) | rounds |")
    print("|---|---|---|")
    for name, results in speeds.items():
        print(f"| {name} | {statistics.median(results):.0f} | {', '.join(f'{v:.0f}' for v in results)} |")
    shipped, before = (statistics.median(results) for results in speeds.values())
    print(f"\nfloat32 penalty speed relative to the bf16 one: {shipped / before:.3f}")
    exact, mixed = penalty_gap(dataset)
    print(f"penalty of one batch on a fresh critic: float32 {exact:.6f}, inside bf16 autocast {mixed:.6f} "
          f"(relative difference {abs(mixed - exact) / exact:.2e})")


if __name__ == "__main__":
    main()
