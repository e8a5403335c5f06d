"""SeqGAN against MLE on real text: five-character Tang poem quatrains, scored by BLEU-2 as in the paper.

Same protocol as benchmarks/seqgan_oracle.py: per seed, pre-train G by MLE and D on G's samples, then
continue one copy with MLE only and one with SeqGAN for the same number of epochs. Scores on the same
number of samples from each: BLEU-2 (nltk's corpus_bleu; characters as tokens; every held-out quatrain a
reference for every sample, as the paper's poem experiment), G's NLL on held-out quatrains, the share of
samples copied whole from the training set, and the distinct 2-gram share. Needs Debian's fortunes-zh
(gan_core/sequence/poems.py) and nltk.

    python -m benchmarks.seqgan_poems
    python -m benchmarks.seqgan_poems --seeds 0 --epochs 1 --pretrain-epochs 1 --d-pretrain-rounds 1   # a smoke run
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from benchmarks.seqgan_oracle import clone
from gan_core.sequence import SeqGanModel, TokenBatchSampler
from gan_core.sequence.metrics import distinct_ngram_share, heldout_nll
from gan_core.sequence.poems import PoemCorpus, load_poems
from gan_core.sequence.settings import cpu_oracle

SAMPLE_SEED = 777


def bleu2(samples: list[str], references: list[str]) -> float:
    """Corpus BLEU-2 of character sequences, every reference shared by every sample."""
    from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu

    shared = [list(text) for text in references]
    return corpus_bleu([shared] * len(samples), [list(text) for text in samples], weights=(0.5, 0.5),
                       smoothing_function=SmoothingFunction().method1)


def scores(model: SeqGanModel, corpus: PoemCorpus, count: int) -> dict[str, float]:
    tokens = model.generator.sample(count, generator=torch.Generator().manual_seed(SAMPLE_SEED))
    texts = corpus.vocabulary.decode(tokens)
    training = set(corpus.vocabulary.decode(corpus.train))
    return {
        "bleu2": bleu2(texts, corpus.vocabulary.decode(corpus.heldout)),
        "heldout_nll": heldout_nll(model.generator, corpus.heldout),
        "copied": sum(text in training for text in texts) / len(texts),
        "distinct2": distinct_ngram_share(tokens, 2),
    }


def run_seed(seed: int, corpus: PoemCorpus, args: argparse.Namespace) -> tuple[dict, dict, list[str], float]:
    settings = cpu_oracle().with_changes(pretrain_epochs=args.pretrain_epochs, adversarial_epochs=args.epochs,
                                         d_pretrain_rounds=args.d_pretrain_rounds)
    torch.manual_seed(seed)
    model = SeqGanModel(settings, len(corpus.vocabulary), corpus.train.shape[1], corpus.train.shape[0])
    model.attach_optimizers(model.configure_optimizers())
    batches = TokenBatchSampler(corpus.train, settings.batch_size)
    began = time.perf_counter()
    for _ in range(settings.pretrain_epochs):
        model.mle_epoch(batches)
    for _ in range(settings.d_pretrain_rounds):
        model.discriminator_round(batches)
    print(f"seed {seed}: pre-trained in {time.perf_counter() - began:.0f} s, "
          f"held-out NLL {heldout_nll(model.generator, corpus.heldout):.3f}", flush=True)
    mle_model = clone(model)
    model.start_adversarial()
    stream = torch.get_rng_state()
    results = {}
    for name, runner in (("MLE", mle_model), ("SeqGAN", model)):
        torch.set_rng_state(stream)
        started = time.perf_counter()
        for _ in range(settings.adversarial_epochs):
            runner.mle_epoch(batches) if name == "MLE" else runner.adversarial_epoch(batches)
        results[name] = {**scores(runner, corpus, args.samples), "seconds": time.perf_counter() - started}
        print(f"seed {seed} {name}: {results[name]}", flush=True)
    examples = corpus.vocabulary.decode(model.generator.sample(3, generator=torch.Generator().manual_seed(seed)))
    return results["MLE"], results["SeqGAN"], examples, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--pretrain-epochs", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--d-pretrain-rounds", type=int, default=cpu_oracle().d_pretrain_rounds)
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args()
    torch.set_num_threads(1)
    began = time.perf_counter()
    corpus = load_poems()
    real = corpus.vocabulary.decode(corpus.train[torch.randperm(corpus.train.shape[0], generator=torch.Generator().manual_seed(0))
                                                  [:args.samples]])
    real_bleu = bleu2(real, corpus.vocabulary.decode(corpus.heldout))
    print(f"{corpus.train.shape[0]} training and {corpus.heldout.shape[0]} held-out quatrains, {len(corpus.vocabulary)} characters; "
          f"BLEU-2 of training quatrains against the held-out ones {real_bleu:.3f}", flush=True)
    rows = {"MLE": [], "SeqGAN": []}
    for seed in args.seeds:
        mle, seqgan, examples, seconds = run_seed(seed, corpus, args)
        rows["MLE"].append((seed, mle))
        rows["SeqGAN"].append((seed, seqgan))
        print(f"seed {seed} done in {seconds:.0f} s; SeqGAN samples: {' / '.join(examples)}", flush=True)
    print("\n| method | seed | BLEU-2 | held-out NLL | copied from training | distinct 2-grams | wall s |\n|---|---|---|---|---|---|---|")
    for method, results in rows.items():
        for seed, r in results:
            print(f"| {method} | {seed} | {r['bleu2']:.3f} | {r['heldout_nll']:.3f} | {r['copied']:.3f} | {r['distinct2']:.3f} | "
                  f"{r['seconds']:.0f} |")
        mean = {key: statistics.fmean(r[key] for _, r in results) for key in ("bleu2", "heldout_nll", "copied", "distinct2")}
        print(f"| {method} | mean | {mean['bleu2']:.3f} | {mean['heldout_nll']:.3f} | {mean['copied']:.3f} | {mean['distinct2']:.3f} | "
              f"{sum(r['seconds'] for _, r in results):.0f} |")
    print(f"| training quatrains | — | {real_bleu:.3f} | — | 1.000 | — | — |")
    print(f"total wall time {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
