"""Does SeqGAN's discriminator learn what the oracle NLL measures? Its accuracies and how its score tracks the oracle.

A roll-out reward can only steer G towards likelier sequences if D scores likelier sequences higher. Per seed, G
and D are pre-trained exactly as `benchmarks/seqgan_oracle.py` pre-trains them; then D alone keeps training, a round
of fresh negatives at a time (G frozen), and every `--every` rounds it is measured on a fixed set of G's samples:

- train accuracy: D's accuracy on its own last round (positives drawn from the 10,000 training sequences);
- held-out accuracy: balanced accuracy on 2,000 held-out oracle sequences against 2,000 fresh samples of G,
  none of which D ever trained on;
- correlation: among those samples of G, the Pearson correlation between D's probability of "real" and the
  oracle's log-likelihood of the sample (per token). A useful reward needs it clearly above 0.

    python -m benchmarks.seqgan_discriminator                       # seeds 0 1 2, 96 rounds, the CPU settings
    python -m benchmarks.seqgan_discriminator --seeds 0 --rounds 32 --d-lr 1e-3
"""

from __future__ import annotations

import argparse
import time

import torch

from benchmarks.seqgan_oracle import pretrain
from gan_core.sequence import OracleSettings, make_oracle_data
from gan_core.sequence.settings import cpu_oracle

SAMPLE_SEED = 5


@torch.no_grad()
def measure_discriminator(model, fake: torch.Tensor, real: torch.Tensor, fake_loglik: torch.Tensor) -> tuple[float, float]:
    """(held-out balanced accuracy, correlation of D's score with the oracle log-likelihood among `fake`)."""
    was_training = model.discriminator.training
    model.discriminator.eval()
    p_fake, p_real = model.discriminator.real_probability(fake), model.discriminator.real_probability(real)
    model.discriminator.train(was_training)
    accuracy = float(((p_real > 0.5).float().mean() + (p_fake <= 0.5).float().mean()) / 2)
    correlation = float(torch.corrcoef(torch.stack([p_fake.float(), fake_loglik]))[0, 1])
    return accuracy, correlation


def main() -> None:
    base = cpu_oracle()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rounds", type=int, default=96, help="D rounds after pre-training (16 updates each)")
    parser.add_argument("--every", type=int, default=16)
    parser.add_argument("--d-lr", type=float, default=base.d_lr, help="D's learning rate after pre-training")
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = make_oracle_data(OracleSettings(vocab_size=1000, sequence_length=20, train_count=10_000))
    real = data.heldout[: args.samples]
    print(f"torch {torch.__version__}; the settings of benchmarks/seqgan_oracle.py; D's learning rate after "
          f"pre-training {args.d_lr:g}; {args.samples} held-out sequences against {args.samples} samples of G", flush=True)
    rows = []
    for seed in args.seeds:
        began = time.perf_counter()
        model, batches, _, last_accuracy = pretrain(seed, base, data, eval_samples=200)
        for group in model.optimizers["discriminator"].param_groups:
            group["lr"] = args.d_lr
        fake = model.generator.sample(args.samples, generator=torch.Generator().manual_seed(SAMPLE_SEED))
        fake_loglik = -data.oracle.nll(fake)
        updates_per_round = -(-base.d_negatives // base.batch_size) * base.d_epochs_per_round
        accuracy, correlation = measure_discriminator(model, fake, real, fake_loglik)
        rows.append((seed, base.d_pretrain_rounds, last_accuracy, accuracy, correlation))
        for extra in range(1, args.rounds + 1):
            train_accuracy = float(model.discriminator_round(batches)["D_accuracy"])
            if extra % args.every == 0:
                accuracy, correlation = measure_discriminator(model, fake, real, fake_loglik)
                rows.append((seed, base.d_pretrain_rounds + extra, train_accuracy, accuracy, correlation))
                print(f"seed {seed} round {rows[-1][1]}: train {train_accuracy:.3f} held-out {accuracy:.3f} "
                      f"correlation {correlation:+.3f}", flush=True)
        print(f"seed {seed}: {time.perf_counter() - began:.0f} s", flush=True)
    print()
    print("| seed | D rounds (updates) | train accuracy | held-out accuracy | correlation with oracle log-likelihood |")
    print("|---|---|---|---|---|")
    for seed, rounds, train_accuracy, accuracy, correlation in rows:
        print(f"| {seed} | {rounds} ({rounds * updates_per_round}) | {train_accuracy:.3f} | {accuracy:.3f} | {correlation:+.3f} |")


if __name__ == "__main__":
    main()
