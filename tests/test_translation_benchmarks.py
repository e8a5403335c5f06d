"""The translation benchmarks: CycleGAN's domain-classifier evaluation and the page-path speed timing."""

import math

import pytest
import torch
from test_image_to_image import tiny_config, tiny_pairs  # noqa: F401  (tiny_pairs is a fixture used below)
from torch import nn

from benchmarks.translation_quality import cyclegan_table, evaluate_cyclegan, train_domain_classifier, untrained_generators
from benchmarks.translation_speed import page_translation, picture_png, time_translation, untrained_subject, verdict
from gan_core.checkpoints import load_generator
from gan_core.data.paired import make_paired_dataset
from gan_core.training import train


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="module")
def two_domains():
    """Unpaired 32×32 domains nobody could confuse: dark reddish noise (A) and bright gray noise (B)."""
    generator = torch.Generator().manual_seed(1)
    a = torch.randint(0, 90, (24, 3, 36, 36), dtype=torch.uint8, generator=generator)
    a[:, 0] += 120
    b = torch.randint(170, 256, (24, 1, 36, 36), dtype=torch.uint8, generator=generator).expand(-1, 3, -1, -1)
    return make_paired_dataset("two_domains", a[:16], b[:16], a[16:], b[16:], 32, aligned=False)


def identity_pair() -> nn.ModuleDict:
    """'Translators' that change nothing: every translation stays in its source domain, every cycle is exact."""
    return nn.ModuleDict({"a_to_b": nn.Identity(), "b_to_a": nn.Identity()})


def test_cyclegan_evaluation_of_a_trained_checkpoint_has_every_row(tiny_pairs, tmp_path):  # noqa: F811
    train(tiny_config("cyclegan", 1), tmp_path, dataset=tiny_pairs)
    model = load_generator(tmp_path / "generator.safetensors")
    report = evaluate_cyclegan(model.generator, tiny_pairs, steps=3, baseline=untrained_generators(model))
    assert [(row.images, row.domain) for row in report.classifier_rows] == [("held-out real A", "A"),
                                                                            ("held-out real B", "B")]
    rows = report.classifier_rows + report.model.rows + report.baseline.rows
    assert [row.domain for row in rows] == ["A", "B", "B", "A", "B", "A"]
    assert all(row.total == 2 and 0 <= row.hits <= 2 for row in rows)
    for result in (report.model, report.baseline):
        assert set(result.cycle_l1) == {"A", "B"}
        assert all(0 < value < 1 and math.isfinite(value) for value in result.cycle_l1.values()), result.cycle_l1
    assert report.model.cycle_l1 != report.baseline.cycle_l1, "the baseline is a different, untrained pair"
    text = cyclegan_table(report)
    assert "| held-out real A | A |" in text and "| A→B translations G_A(a) | B |" in text
    assert "| B→A translations G_B(b) — untrained baseline | A |" in text
    assert text.count("\\|G_") == 2, "both cycle rows, with the bars escaped for markdown"
    assert text.splitlines()[-4].endswith("untrained baseline |"), "the cycle table has a baseline column"


def test_domain_classifier_separates_obviously_different_domains(two_domains):
    report = evaluate_cyclegan(identity_pair(), two_domains, steps=40)
    assert [row.share for row in report.classifier_rows] == [1.0, 1.0], report.classifier_rows
    assert [row.share for row in report.model.rows] == [0.0, 0.0], "unchanged images stay in their own domain"
    assert report.cycle_l1 == {"A": 0.0, "B": 0.0} and report.baseline is None


def test_domain_classifier_is_seeded_and_leaves_the_callers_rng_alone(two_domains):
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    first = train_domain_classifier(two_domains, steps=2, seed=9)
    assert torch.equal(torch.rand(1), expected)
    second = train_domain_classifier(two_domains, steps=2, seed=9)
    for (name, value), other in zip(first.state_dict().items(), second.state_dict().values()):
        assert torch.equal(value, other), name


def test_speed_benchmark_times_the_page_path_on_an_untrained_default_model(tmp_path):
    subject = untrained_subject("cyclegan", tmp_path)
    assert subject.label.startswith("untrained cyclegan") and subject.translator.has_cycle
    upload = picture_png(24)
    assert upload.startswith(b"\x89PNG")
    assert page_translation(subject.translator, upload, "BtoA").startswith(b"\x89PNG")
    timing = time_translation(subject.translator, upload, "AtoB", runs=3, warmup=0)
    assert len(timing.seconds) == 3 and all(second > 0 for second in timing.seconds)
    assert verdict(timing, 24) == "—", "the 2 s target is for 512×512 pictures only"


def test_colourisation_validation_trains_without_its_photo_and_scores_that_photo():
    from benchmarks.colorization_validation import validate
    from gan_core.data.embedded_tasks import TASKS

    settings = {"chroma_downsample": 4, "image_size": 32, "width": 8, "batch_size": 4, "log_every": 1,
                "sample_every": 1000, "checkpoint_every": 1000}
    report = validate("coffee", 2, settings)
    assert "validation photo coffee" in report and "'chroma_downsample': 4" in report
    assert "| pix2pix |" in report and "| input itself |" in report and "mean training colour" in report
    assert "the held-out photo coffee whole, 512×341" in report, "and the photo whole, fitted as the page fits it"
    assert "| the translate page |" in report and "coloured at the picture's full size" in report
    default, fold = (TASKS["gray2color"].load(32, **split) for split in ({}, {"held_out_photos": ("coffee",)}))
    assert not torch.equal(default.test_targets, fold.test_targets), "the fold is scored on coffee, not on the cat"


def test_the_whole_picture_score_is_the_pages_translation_of_the_held_out_photo(tmp_path):
    from conftest import save_untrained_translator

    from benchmarks.translation_quality import whole_picture_report
    from gan_core.errors import GanStudioError

    report = whole_picture_report(save_untrained_translator(tmp_path, "pix2pix", "photo2sketch_paired"))
    assert "held-out photo chelsea whole, 451×300" in report
    assert "| the translate page |" in report and "| input itself | 5.6" in report, "the photo against its sketch"
    assert "full size" not in report, "a sketcher has no working size to compare"
    with pytest.raises(GanStudioError, match="not an embedded task"):
        whole_picture_report(save_untrained_translator(tmp_path, "pix2pix", "translation_folder"))
