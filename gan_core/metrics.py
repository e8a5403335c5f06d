"""Offline quality metrics for digit generators, all measured through the judge classifier.

- label accuracy: the judge agrees with the label a conditional generator was asked for;
- intra-class diversity: mean pairwise judge-feature distance within a class, generated over real,
  so accuracy bought with mode collapse shows up as a ratio well under 1;
- category accuracy (InfoGAN): best one-to-one matching of code values to judge classes (Hungarian);
- Fréchet distance between judge features of generated and held-out real digits, with the
  real-vs-real value (training split vs held-out split) beside it for scale;
- class coverage: the share of each class among unconditional samples (mode collapse shows here);
- confident share: the share of samples the judge classifies with probability ≥ 0.9, with the real
  held-out digits' share beside it: a blurred or hybrid digit is classified, but not confidently.

Each digit set has its own judge and its own real reference; a checkpoint is measured with those of the
data set it was trained on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from gan_core.checkpoints import LoadedGenerator, load_generator
from gan_core.data.catalogue import load_dataset
from gan_core.data.types import to_unit_range
from gan_core.errors import CheckpointError
from gan_core.inference import generate_from_latent
from gan_core.judge import JUDGED_DATASETS, Judge, load_judge

CONFIDENCE = 0.9


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """‖μa − μb‖² + Tr(Σa + Σb − 2(ΣaΣb)^½), with the trace of the root from the eigenvalues of ΣaΣb."""
    a = features_a.double().numpy()
    b = features_b.double().numpy()
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    eigenvalues = np.linalg.eigvals(cov_a @ cov_b)
    trace_root = np.sqrt(np.clip(eigenvalues.real, 0, None)).sum()
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def mean_pairwise_distance(features: torch.Tensor) -> float:
    if features.shape[0] < 2:
        return 0.0
    distances = torch.cdist(features.double(), features.double())
    n = features.shape[0]
    return float(distances.sum() / (n * (n - 1)))


def intra_class_diversity(
    generated: torch.Tensor, generated_labels: torch.Tensor, real: torch.Tensor, real_labels: torch.Tensor
) -> float:
    """Mean over classes of (generated within-class spread / real within-class spread)."""
    ratios = []
    for label in real_labels.unique().tolist():
        fake_members = generated[generated_labels == label]
        real_members = real[real_labels == label]
        if fake_members.shape[0] >= 2 and real_members.shape[0] >= 2:
            ratios.append(mean_pairwise_distance(fake_members) / mean_pairwise_distance(real_members))
    return float(np.mean(ratios)) if ratios else 0.0


def category_accuracy(codes: torch.Tensor, predicted: torch.Tensor, num_codes: int, num_classes: int = 10) -> tuple[float, list[int]]:
    """Accuracy under the best one-to-one mapping of code values to classes, and that mapping."""
    counts = np.zeros((num_codes, num_classes))
    np.add.at(counts, (codes.numpy(), predicted.numpy()), 1)
    rows, columns = linear_sum_assignment(counts, maximize=True)
    mapping = [-1] * num_codes
    for row, column in zip(rows, columns):
        mapping[row] = int(column)
    return float(counts[rows, columns].sum() / counts.sum()), mapping


def class_coverage(predicted: torch.Tensor, num_classes: int = 10) -> dict[str, Any]:
    shares = torch.bincount(predicted, minlength=num_classes).double() / predicted.numel()
    return {"shares": [round(float(s), 4) for s in shares], "classes_covered": int((shares > 0).sum()),
            "min_share": float(shares.min())}


def confident_share(features: torch.Tensor, judge: Judge, threshold: float = CONFIDENCE) -> float:
    """Share of images whose most likely class has probability ≥ `threshold` under the judge."""
    with torch.inference_mode():
        probabilities = judge.net.classifier(features.float()).softmax(1)
    return float((probabilities.max(1).values >= threshold).float().mean())


class DigitsReference:
    """The judge's view of the real digits of `dataset` (the judge's own, by default), computed once."""

    def __init__(self, judge: Judge, image_size: int = 32, dataset: str | None = None) -> None:
        data = load_dataset(dataset or judge.dataset, image_size)
        self.dataset = data.name
        self.test_labels = data.test_labels
        _, self.test_features = judge.predict(to_unit_range(data.test_images))
        _, self.train_features = judge.predict(to_unit_range(data.images))
        self.real_vs_real_frechet = frechet_distance(self.train_features, self.test_features)
        self.real_confident_share = confident_share(self.test_features, judge)


def _sample_latents(model: LoadedGenerator, n: int, seed: int, truncation: float | None = None) -> dict[str, torch.Tensor]:
    """Latent parts with labels / categories spread evenly, so every class is measured equally."""
    rng = torch.Generator().manual_seed(seed)
    parts = model.layout.sample_parts(n, torch.device("cpu"), rng, truncation)
    if model.layout.num_labels:
        parts["labels"] = torch.arange(n) % model.layout.num_labels
    if model.layout.categorical:
        parts["category"] = torch.arange(n) % model.layout.categorical
    return parts


def evaluate_generator(model: LoadedGenerator, judge: Judge, reference: DigitsReference, n: int = 1000,
                       seed: int = 0, truncation: float | None = None) -> dict[str, Any]:
    """Every metric that applies to this generator, as plain JSON-ready values (with truncated noise when
    `truncation` is given: the labels drawn, and the noise values inside the threshold, stay the same)."""
    if model.layout is None:
        raise CheckpointError(f"{model.variant} translates images; digit metrics do not apply")
    parts = _sample_latents(model, n, seed, truncation)
    images = generate_from_latent(model, model.layout.compose(**parts))
    predicted, features = judge.predict(images)
    result: dict[str, Any] = {
        "variant": model.variant,
        "dataset": model.dataset.name,
        "step": model.step,
        "samples": n,
        "judge_held_out_accuracy": round(judge.held_out_accuracy, 4),
        "frechet_distance": round(frechet_distance(features, reference.test_features), 3),
        "frechet_real_vs_real": round(reference.real_vs_real_frechet, 3),
        "confident_share": round(confident_share(features, judge), 4),
        "confident_share_real": round(reference.real_confident_share, 4),
    }
    if model.layout.num_labels:
        result["label_accuracy"] = round(float((predicted == parts["labels"]).float().mean()), 4)
        result["intra_class_diversity"] = round(
            intra_class_diversity(features, parts["labels"], reference.test_features, reference.test_labels), 4)
    else:
        result["intra_class_diversity"] = round(
            intra_class_diversity(features, predicted, reference.test_features, reference.test_labels), 4)
    if model.layout.categorical:
        accuracy, mapping = category_accuracy(parts["category"], predicted, model.layout.categorical)
        result["category_accuracy"] = round(accuracy, 4)
        result["category_to_class"] = mapping
    result["class_coverage"] = class_coverage(predicted)
    return result


def evaluate_checkpoint(path: Path, n: int = 1000, seed: int = 0, judge_path: Path | None = None) -> dict[str, Any]:
    """Metrics of the generator at `path`, by the judge (and real digits) of the data set it was trained on."""
    model = load_generator(path)
    if model.dataset.name not in JUDGED_DATASETS:
        raise CheckpointError(f"the metrics judge digits ({', '.join(JUDGED_DATASETS)}); {Path(path).name} was "
                              f"trained on {model.dataset.name}")
    judge = load_judge(judge_path, dataset=model.dataset.name)
    if judge.dataset != model.dataset.name:
        raise CheckpointError(f"judge {Path(judge_path or '').name} measures {judge.dataset}; {Path(path).name} "
                              f"was trained on {model.dataset.name}")
    return evaluate_generator(model, judge, DigitsReference(judge), n=n, seed=seed)
