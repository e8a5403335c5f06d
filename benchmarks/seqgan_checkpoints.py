"""Scores of trained SeqGAN checkpoints (the shipped ones in checkpoints/README.md), each read from its file alone
plus its dataset: oracle NLL of 5,000 samples for oracle models (the paper's measure; lower is better), BLEU-2
against the held-out quatrains for poem models (as benchmarks/seqgan_poems.py, 500 samples), G's NLL of the
held-out sequences, the distinct 2-gram share and the share of samples copied whole from the training set.

    python -m benchmarks.seqgan_checkpoints checkpoints/seqgan-*.safetensors
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from benchmarks.seqgan_poems import bleu2
from gan_core.data.catalogue import load_dataset
from gan_core.sequence.metrics import distinct_ngram_share, heldout_nll
from gan_core.sequence.sampling import load_sequence_model, oracle_score

SAMPLE_SEED = 777


def scores(path: Path) -> dict[str, float]:
    model = load_sequence_model(path)
    config = model.loaded.config
    data = load_dataset(config.dataset, 0, config.data_root)
    count = 5000 if data.oracle is not None else 500
    tokens = model.sample_ids(count, seed=SAMPLE_SEED)
    training = set(map(tuple, data.train.tolist()))
    result = {"samples": count, "heldout_NLL": heldout_nll(model.loaded.generator, data.heldout),
              "distinct_2grams": distinct_ngram_share(tokens, 2),
              "copied": sum(row in training for row in map(tuple, tokens.tolist())) / count}
    if data.oracle is not None:
        result["oracle_NLL"] = oracle_score(model, tokens)
    else:
        result["BLEU2"] = bleu2(model.decode(tokens), data.decode(data.heldout))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", type=Path, nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for path in args.checkpoints:
        print(path.name, " ".join(f"{name}={value:.4f}" if isinstance(value, float) else f"{name}={value}"
                                  for name, value in scores(path).items()), flush=True)


if __name__ == "__main__":
    main()
