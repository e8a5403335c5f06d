"""The metric maths on hand-made inputs whose right answers are known."""

import torch

from gan_core.metrics import (
    category_accuracy,
    class_coverage,
    frechet_distance,
    intra_class_diversity,
    mean_pairwise_distance,
)


def test_frechet_distance_is_zero_for_identical_sets_and_grows_with_a_shift():
    features = torch.randn(500, 8, generator=torch.Generator().manual_seed(0))
    assert abs(frechet_distance(features, features)) < 1e-6
    shifted = features + torch.tensor([3.0] + [0.0] * 7)
    assert abs(frechet_distance(features, shifted) - 9.0) < 1e-4


def test_frechet_distance_sees_a_collapsed_distribution():
    rng = torch.Generator().manual_seed(1)
    real = torch.randn(800, 4, generator=rng)
    collapsed = torch.randn(800, 4, generator=rng) * 0.05
    assert frechet_distance(real, collapsed) > 2.0


def test_category_accuracy_finds_the_best_one_to_one_matching():
    codes = torch.arange(100) % 10
    permutation = torch.tensor([3, 7, 0, 1, 9, 2, 8, 6, 5, 4])
    predicted = permutation[codes]
    accuracy, mapping = category_accuracy(codes, predicted, 10)
    assert accuracy == 1.0 and mapping == permutation.tolist()
    predicted[:10] = (predicted[:10] + 1) % 10  # ten wrong answers
    assert category_accuracy(codes, predicted, 10)[0] == 0.9


def test_class_coverage_reports_collapse():
    coverage = class_coverage(torch.tensor([1] * 95 + [2] * 5))
    assert coverage["classes_covered"] == 2 and coverage["min_share"] == 0.0
    assert coverage["shares"][1] == 0.95


def test_intra_class_diversity_is_one_for_the_same_data_and_zero_for_copies():
    rng = torch.Generator().manual_seed(2)
    real = torch.randn(200, 6, generator=rng)
    labels = torch.arange(200) % 4
    assert abs(intra_class_diversity(real, labels, real, labels) - 1.0) < 1e-9
    copies = real[0].expand(200, 6)
    assert intra_class_diversity(copies, labels, real, labels) == 0.0
    assert mean_pairwise_distance(real[:1]) == 0.0
