"""SeqGAN against MLE on the paper's synthetic oracle: does the adversarial phase lower the oracle NLL?

For each seed: pre-train the generator by MLE and the discriminator on its samples, then continue one
copy with MLE only and one with SeqGAN's adversarial epochs, for the same number of epochs, measuring
the oracle NLL of both after every epoch. An MLE epoch is a pass's worth of batches over the training
set; a SeqGAN epoch is the paper's adversarial round (G update(s) from roll-out rewards, the roll-out
policy's delayed update, D retrained on fresh negatives). The oracle (fixed seed) and its data are shared
by all seeds, as the paper's single oracle is; the seed decides the networks' initialisation and every
sample drawn while training.

    python -m benchmarks.seqgan_oracle                                 # the shrunk CPU setting of BENCHMARKS.md
    python -m benchmarks.seqgan_oracle --vocab 5000 --pretrain-epochs 120 --epochs 200 --paper-d --d-lr 1e-4 \
        --d-pretrain-rounds 50 --d-negatives 10000 --d-rounds-per-epoch 5 --d-epochs-per-round 3   # the paper's sizes
    python -m benchmarks.seqgan_oracle --seeds 0 --epochs 3 --pretrain-epochs 2 --curves /tmp/c.csv  # a smoke run
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from gan_core.sequence import OracleData, OracleSettings, SeqGanModel, TokenBatchSampler, make_oracle_data
from gan_core.sequence.metrics import distinct_ngram_share, heldout_nll, oracle_nll
from gan_core.sequence.settings import PAPER_FILTER_COUNTS, SeqGanSettings, cpu_oracle

EVAL_SEED = 4242  # every curve point samples from its own generator seeded from this, epoch and run


@dataclass
class RunRecord:
    """One continuation (MLE-only or SeqGAN) of one seed: its curve and final scores."""

    method: str
    seed: int
    curve: list[tuple[int, float]] = field(default_factory=list)  # (epoch, oracle NLL); epoch 0 = after pre-training
    final_oracle_nll: float = float("nan")
    heldout_nll: float = float("nan")
    distinct: dict[int, float] = field(default_factory=dict)
    seconds: float = 0.0


def clone(model: SeqGanModel) -> SeqGanModel:
    """An independent copy with the same weights and optimizer moments (so MLE-only continues exactly)."""
    twin = SeqGanModel(model.settings, model.vocab_size, model.sequence_length, model.train_size)
    twin.load_state_dict(model.state_dict())
    twin.attach_optimizers(twin.configure_optimizers())
    for name, optimizer in twin.optimizers.items():
        optimizer.load_state_dict(model.optimizers[name].state_dict())
    return twin


def measure(model: SeqGanModel, data: OracleData, samples: int, seed: int) -> float:
    return oracle_nll(model.generator, data.oracle, samples, rng=torch.Generator().manual_seed(seed))


def finish(record: RunRecord, model: SeqGanModel, data: OracleData, final_samples: int, seed: int) -> None:
    rng = torch.Generator().manual_seed(seed)
    samples = model.generator.sample(final_samples, generator=rng)
    record.final_oracle_nll = float(data.oracle.score(samples))
    record.heldout_nll = heldout_nll(model.generator, data.heldout)
    record.distinct = {n: distinct_ngram_share(samples, n) for n in (2, 4)}


def pretrain(seed: int, settings: SeqGanSettings, data: OracleData, eval_samples: int
             ) -> tuple[SeqGanModel, TokenBatchSampler, list[tuple[int, float]], float]:
    """G by MLE, then D on G's samples, as both continuations start; returns the model, its batches, G's oracle-NLL
    curve and D's accuracy in its last round."""
    torch.manual_seed(seed)
    oracle_settings = data.oracle.settings
    model = SeqGanModel(settings, oracle_settings.vocab_size, oracle_settings.sequence_length, data.train.shape[0])
    model.attach_optimizers(model.configure_optimizers())
    batches = TokenBatchSampler(data.train, settings.batch_size)
    pretrain_curve = []
    for epoch in range(settings.pretrain_epochs):
        model.mle_epoch(batches)
        pretrain_curve.append((epoch + 1, measure(model, data, eval_samples, EVAL_SEED + epoch)))
        print(f"seed {seed} pre-train epoch {epoch + 1}: oracle NLL {pretrain_curve[-1][1]:.3f}", flush=True)
    d_scores = [model.discriminator_round(batches) for _ in range(settings.d_pretrain_rounds)]
    d_accuracy = float(d_scores[-1]["D_accuracy"]) if d_scores else float("nan")
    return model, batches, pretrain_curve, d_accuracy


def run_seed(seed: int, settings: SeqGanSettings, data: OracleData, args: argparse.Namespace) -> tuple[RunRecord, RunRecord, dict]:
    started = time.perf_counter()
    model, batches, pretrain_curve, d_accuracy = pretrain(seed, settings, data, args.eval_samples)
    pretrain_seconds = time.perf_counter() - started
    print(f"seed {seed} pre-training done in {pretrain_seconds:.0f} s; D accuracy in its last round {d_accuracy:.3f}", flush=True)

    mle_model = clone(model)
    start_point = measure(model, data, args.eval_samples, EVAL_SEED)
    records = {"MLE": RunRecord("MLE", seed, [(0, start_point)]), "SeqGAN": RunRecord("SeqGAN", seed, [(0, start_point)])}
    model.start_adversarial()
    # Both continuations draw from the same random stream position, so neither gets luckier data by order.
    stream = torch.get_rng_state()
    for name, runner in (("MLE", mle_model), ("SeqGAN", model)):
        torch.set_rng_state(stream)
        record, began = records[name], time.perf_counter()
        for epoch in range(1, settings.adversarial_epochs + 1):
            logs = runner.mle_epoch(batches) if name == "MLE" else runner.adversarial_epoch(batches)
            record.curve.append((epoch, measure(runner, data, args.eval_samples, EVAL_SEED + 1000 * epoch)))
            extra = "" if name == "MLE" else (f", reward {float(logs['reward_mean']):.3f}, D loss {float(logs['D_loss']):.3f}"
                                              f", D acc {float(logs['D_accuracy']):.3f}")
            print(f"seed {seed} {name} epoch {epoch}: oracle NLL {record.curve[-1][1]:.3f}{extra}", flush=True)
        record.seconds = time.perf_counter() - began
        finish(record, runner, data, args.final_samples, EVAL_SEED + 7)
    info = {"pretrain_seconds": pretrain_seconds, "pretrain_curve": pretrain_curve, "d_accuracy": d_accuracy}
    return records["MLE"], records["SeqGAN"], info


def write_curves(path: Path, records: list[RunRecord], pretrain: dict[int, dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["seed", "method", "phase", "epoch", "oracle_nll"])
        for seed, info in pretrain.items():
            for epoch, value in info["pretrain_curve"]:
                writer.writerow([seed, "MLE", "pretrain", epoch, f"{value:.4f}"])
        for record in records:
            for epoch, value in record.curve:
                writer.writerow([record.seed, record.method, "continued", epoch, f"{value:.4f}"])


def plot_curves(path: Path, records: list[RunRecord], reference: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7, 4))
    colours = {"MLE": "tab:blue", "SeqGAN": "tab:red"}
    for record in records:
        epochs, values = zip(*record.curve)
        axes.plot(epochs, values, color=colours[record.method], alpha=0.8,
                  label=record.method if record.seed == records[0].seed else None)
    axes.axhline(reference, color="gray", linestyle="--", label="oracle's own samples")
    axes.set_xlabel("epochs after pre-training")
    axes.set_ylabel("oracle NLL (per token)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def table(records: list[RunRecord], real_distinct: dict[int, float]) -> str:
    lines = ["| method | seed | final oracle NLL | held-out NLL (G on oracle data) | distinct 2-grams | distinct 4-grams | wall s |",
             "|---|---|---|---|---|---|---|"]
    for method in ("MLE", "SeqGAN"):
        rows = [r for r in records if r.method == method]
        for r in rows:
            lines.append(f"| {method} | {r.seed} | {r.final_oracle_nll:.3f} | {r.heldout_nll:.3f} | {r.distinct[2]:.3f} | "
                         f"{r.distinct[4]:.3f} | {r.seconds:.0f} |")
        mean = lambda values: statistics.fmean(values)
        lines.append(f"| {method} | mean | {mean([r.final_oracle_nll for r in rows]):.3f} | {mean([r.heldout_nll for r in rows]):.3f} | "
                     f"{mean([r.distinct[2] for r in rows]):.3f} | {mean([r.distinct[4] for r in rows]):.3f} | "
                     f"{sum(r.seconds for r in rows):.0f} |")
    lines.append(f"| oracle's held-out data | — | — | — | {real_distinct[2]:.3f} | {real_distinct[4]:.3f} | — |")
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    base = cpu_oracle()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--vocab", type=int, default=1000, help="oracle vocabulary (paper: 5000)")
    parser.add_argument("--length", type=int, default=20, help="sequence length (paper: 20)")
    parser.add_argument("--train-count", type=int, default=10_000, help="oracle training sequences (paper: 10,000)")
    parser.add_argument("--pretrain-epochs", type=int, default=base.pretrain_epochs)
    parser.add_argument("--epochs", type=int, default=base.adversarial_epochs, help="epochs after pre-training, both methods")
    parser.add_argument("--rollouts", type=int, default=base.rollout_count)
    parser.add_argument("--d-pretrain-rounds", type=int, default=base.d_pretrain_rounds)
    parser.add_argument("--d-negatives", type=int, default=base.d_negatives)
    parser.add_argument("--d-rounds-per-epoch", type=int, default=base.d_rounds_per_epoch, help="paper: 5")
    parser.add_argument("--d-epochs-per-round", type=int, default=base.d_epochs_per_round, help="paper: 3")
    parser.add_argument("--mle-epochs-per-epoch", type=int, default=base.mle_epochs_per_epoch,
                        help="SeqGAN: MLE epochs of G after each adversarial epoch (paper: 0)")
    parser.add_argument("--d-lr", type=float, default=base.d_lr, help="D's Adam learning rate (paper: 1e-4)")
    parser.add_argument("--paper-d", action="store_true", help="the paper's 1,720 filters instead of a quarter")
    parser.add_argument("--eval-samples", type=int, default=1000, help="samples per curve point")
    parser.add_argument("--final-samples", type=int, default=5000, help="samples for the final scores")
    parser.add_argument("--curves", type=Path, default=Path("seqgan_oracle_curves.csv"), help="CSV of every curve point")
    parser.add_argument("--png", type=Path, default=None, help="also draw the curves here")
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    settings = cpu_oracle().with_changes(
        pretrain_epochs=args.pretrain_epochs, adversarial_epochs=args.epochs, rollout_count=args.rollouts,
        d_pretrain_rounds=args.d_pretrain_rounds, d_negatives=args.d_negatives, d_lr=args.d_lr,
        d_rounds_per_epoch=args.d_rounds_per_epoch, d_epochs_per_round=args.d_epochs_per_round,
        mle_epochs_per_epoch=args.mle_epochs_per_epoch,
        **({"d_filter_counts": PAPER_FILTER_COUNTS} if args.paper_d else {}),
    )
    began = time.perf_counter()
    data = make_oracle_data(OracleSettings(vocab_size=args.vocab, sequence_length=args.length, train_count=args.train_count))
    reference = float(data.oracle.score(data.heldout))
    real_distinct = {n: distinct_ngram_share(data.heldout, n) for n in (2, 4)}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); oracle vocab {args.vocab}, length {args.length}, "
          f"{args.train_count} training sequences; oracle NLL of its own held-out samples {reference:.3f}", flush=True)
    print(f"settings: {settings}", flush=True)
    records: list[RunRecord] = []
    pretrain: dict[int, dict] = {}
    for seed in args.seeds:
        mle, seqgan, info = run_seed(seed, settings, data, args)
        records += [mle, seqgan]
        pretrain[seed] = info
        write_curves(args.curves, records, pretrain)
    print()
    print(table(records, real_distinct))
    for seed, info in pretrain.items():
        after = info["pretrain_curve"][-1][1] if info["pretrain_curve"] else float("nan")
        print(f"seed {seed}: pre-training (G {settings.pretrain_epochs} epochs, D {settings.d_pretrain_rounds} rounds) "
              f"{info['pretrain_seconds']:.0f} s, oracle NLL after it {after:.3f}")
    print(f"curves: {args.curves}; total wall time {time.perf_counter() - began:.0f} s")
    if args.png:
        plot_curves(args.png, records, reference)
        print(f"plot: {args.png}")


if __name__ == "__main__":
    main()
