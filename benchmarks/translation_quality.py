"""Quality of a pix2pix or CycleGAN checkpoint on held-out images, chosen by the checkpoint's variant.

pix2pix: PSNR and SSIM of the translation against the ground truth, beside two trivial baselines a
useful model must beat: the input itself, and the mean training target. The generator runs on batch
statistics, as the official pix2pix test script does.

CycleGAN: an unpaired task has no ground truth to compare with, so this script trains its own small
CNN domain classifier (A vs B) on the training images of both domains, seeded, and reports

- its accuracy on the held-out real images of each domain: a classifier that cannot tell the real
  domains apart says nothing about the translations, so this row comes first;
- the share of held-out A→B translations it puts in B, and of B→A translations it puts in A;
- the cycle L1, mean |G_B(G_A(a)) − a| and mean |G_A(G_B(b)) − b| in [0, 1] pixel units, which shows
  what the round trip keeps (a translator that only fools the classifier does not come back);
- the same shares and cycle L1 for an untrained generator pair of the same architecture: a two-class
  classifier puts even noise in one of the domains, and this row shows how often that happens.

    python -m benchmarks.translation_quality --checkpoint checkpoints/pix2pix-photo2sketch_paired.safetensors
    python -m benchmarks.translation_quality --checkpoint checkpoints/cyclegan-photo2sketch.safetensors

The held-out images are the task's own test split (for the embedded tasks: crops of the held-out photo).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from torch import nn

from gan_core.checkpoints import LoadedGenerator, load_generator
from gan_core.data.catalogue import load_dataset
from gan_core.data.embedded_tasks import HELD_OUT_PHOTOS, TASKS
from gan_core.data.embedded_tasks import photo as photo_named
from gan_core.data.paired import PairBatchSource, PairedDataset
from gan_core.data.types import from_unit_range, to_unit_range
from gan_core.errors import GanStudioError
from gan_core.nets.colorizer import lab_to_rgb, rgb_to_lab
from gan_core.nets.image_to_image import batch_statistics
from gan_core.registry import get_variant
from gan_core.translation import MAX_SIDE, load_translator, translate
from gan_core.uploads import fit_within

BATCH = 16
CLASSIFIER_SIZE = 64
"""Side the domain classifier looks at; larger images are averaged down to it (cheap on a CPU)."""
CLASSIFIER_STEPS = 300
CLASSIFIER_BATCH = 16  # per domain: each step sees 16 A and 16 B crops
CLASSIFIER_SEED = 0


# --- shared --------------------------------------------------------------------------------
def translate_all(generator: nn.Module, inputs: torch.Tensor, batch_stats: bool = False) -> torch.Tensor:
    """Run `generator` over [-1, 1] images in batches of `BATCH`, without gradients.

    Batches bound memory at large image sizes. `batch_stats` runs batch norm on each batch's own
    statistics (pix2pix, as its official test script); instance norm is unaffected either way.
    """
    generator.eval()
    outputs = []
    with torch.no_grad():
        for start in range(0, len(inputs), BATCH):
            chunk = inputs[start:start + BATCH]
            if batch_stats:
                with batch_statistics(generator):
                    outputs.append(generator(chunk))
            else:
                outputs.append(generator(chunk))
    return torch.cat(outputs)


def as_images(tensor: torch.Tensor) -> np.ndarray:
    """[-1, 1] (N, C, H, W) tensors as (N, H, W, C) float64 in [0, 1], the layout skimage's metrics take."""
    return from_unit_range(tensor).permute(0, 2, 3, 1).numpy().astype(np.float64)


def task_data(model: LoadedGenerator) -> PairedDataset:
    """The data set the checkpoint was trained on, at its size (train split for the classifier, test for scores)."""
    return load_dataset(model.config.dataset, model.config.image_size, model.config.data_root)


# --- pix2pix -------------------------------------------------------------------------------
def scores(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Mean PSNR and SSIM over images given as (N, H, W, C) floats in [0, 1]."""
    psnr = [peak_signal_noise_ratio(t, p, data_range=1.0) for p, t in zip(predicted, truth)]
    ssim = [structural_similarity(t, p, data_range=1.0, channel_axis=-1) for p, t in zip(predicted, truth)]
    return float(np.mean(psnr)), float(np.mean(ssim))


def with_mean_chroma(inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Each input's own Lab lightness with the mean chroma (a*, b*) of `targets`: the trivial colouriser.

    Shown beside a `keep_lightness` model, which also keeps the input's lightness and differs only in
    the colour it chooses; all in [-1, 1].
    """
    chroma = rgb_to_lab((targets + 1) / 2)[:, 1:].mean((0, 2, 3))
    lab = rgb_to_lab((inputs + 1) / 2)
    lab[:, 1:] = chroma[:, None, None]
    return lab_to_rgb(lab) * 2 - 1


def pix2pix_report(model: LoadedGenerator, data: PairedDataset) -> str:
    """PSNR/SSIM of the translations and of the two trivial baselines, as a markdown table."""
    inputs, truth = to_unit_range(data.test_images), to_unit_range(data.test_targets)
    predicted = translate_all(model.generator, inputs, batch_stats=True)
    # Training targets are stored a little larger (for random crops); compare the mean at the test size.
    mean_target = F.interpolate(to_unit_range(data.targets).mean(0, keepdim=True), size=truth.shape[-2:], mode="area")
    truth_images = as_images(truth)
    rows = [("pix2pix", as_images(predicted)), ("input itself", as_images(inputs.expand_as(truth))),
            ("mean training target", as_images(mean_target.expand_as(truth)))]
    if model.config.keep_lightness:
        rows.append(("input's lightness, mean training colour", as_images(with_mean_chroma(inputs, to_unit_range(data.targets)))))
    lines = [f"{model.variant} on {model.config.dataset}, step {model.step}, {len(truth)} held-out pairs "
             f"at {truth.shape[-1]}×{truth.shape[-1]}", "", "| prediction | PSNR (dB) | SSIM |", "|---|---|---|"]
    for name, images in rows:
        psnr, ssim = scores(images, truth_images)
        lines.append(f"| {name} | {psnr:.2f} | {ssim:.3f} |")
    return "\n".join(lines)


def whole_picture_report(path: Path, photo_name: str = HELD_OUT_PHOTOS[0]) -> str:
    """A held-out photo whole, through the translate page's own path, beside the input itself.

    The crops above are at the training scale; a user uploads a whole picture. For a colouriser this
    also scores the page's working size against colouring the picture at its full size. `photo_name`:
    the embedded task's held-out photo, or a validation photo the model was not trained on.
    """
    translator = load_translator(path)
    task = TASKS.get(translator.dataset)
    if task is None:
        raise GanStudioError(f"{path.name} was trained on {translator.dataset!r}, not an embedded task with a held-out photo")
    original = Image.fromarray(photo_named(photo_name))
    photo = np.asarray(fit_within(original, MAX_SIDE))  # what the page works on
    truth = task.filter_b(photo).astype(np.float64) / 255
    rows = [("the translate page", translate(translator, original))]
    if translator.colour_side:
        rows.append(("the same, coloured at the picture's full size", translate(replace(translator, colour_side=None), original)))
    height, width = truth.shape[:2]
    lines = [f"{translator.title}: the held-out photo {photo_name} whole, {width}×{height}", "", "| prediction | PSNR (dB) | SSIM |",
             "|---|---|---|"]
    predictions = [(name, np.asarray(result.output, dtype=np.float64) / 255) for name, result in rows]
    predictions.append(("input itself", task.filter_a(photo).astype(np.float64) / 255))
    for name, image in predictions:
        psnr, ssim = scores(image[None], truth[None])
        lines.append(f"| {name} | {psnr:.2f} | {ssim:.3f} |")
    if rows[0][1].prepared:
        lines += ["", f"The page's note: {rows[0][1].prepared}."]
    return "\n".join(lines)


# --- CycleGAN: domain classifier -----------------------------------------------------------
class DomainClassifier(nn.Module):
    """A small strided CNN giving one logit: > 0 means domain B.

    Global average pooling lets it take any image size; no batch norm, so a prediction does not
    depend on which other images share its batch.
    """

    def __init__(self, channels: int = 3, width: int = 16) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for out_channels in (width, 2 * width, 4 * width, 4 * width):
            layers += [nn.Conv2d(channels, out_channels, 4, 2, 1), nn.LeakyReLU(0.2)]
            channels = out_channels
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(channels, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(shrink_for_classifier(images))).squeeze(1)


def shrink_for_classifier(images: torch.Tensor) -> torch.Tensor:
    """Average larger images down to `CLASSIFIER_SIZE` so the classifier costs the same at every model size."""
    if images.shape[-1] <= CLASSIFIER_SIZE:
        return images
    return F.interpolate(images, size=(CLASSIFIER_SIZE, CLASSIFIER_SIZE), mode="area")


def train_domain_classifier(data: PairedDataset, steps: int = CLASSIFIER_STEPS, seed: int = CLASSIFIER_SEED,
                            batch_size: int = CLASSIFIER_BATCH) -> DomainClassifier:
    """Train A-vs-B on the training split only, with the CycleGAN's own crops and flips.

    Batches come from the trainer's `PairBatchSource` (unaligned), so the classifier sees the same
    image distribution as the translators did. The torch RNG is forked, so the result depends on
    `seed` alone and the caller's RNG state is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        classifier = DomainClassifier(data.images.shape[1])
        batches = PairBatchSource(data, batch_size, torch.device("cpu"), aligned=False)
        optimizer = torch.optim.Adam(classifier.parameters(), lr=1e-3, betas=(0.5, 0.999))
        labels = torch.cat([torch.zeros(batch_size), torch.ones(batch_size)])
        classifier.train()
        for _ in range(steps):
            real_a, real_b = batches()
            loss = F.binary_cross_entropy_with_logits(classifier(torch.cat([real_a, real_b])), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return classifier.eval()


def share_in_domain(classifier: DomainClassifier, images: torch.Tensor, domain: str) -> tuple[int, int]:
    """How many of these [-1, 1] images the classifier puts in `domain` ("A" or "B"), and of how many."""
    with torch.no_grad():
        is_b = torch.cat([classifier(images[i:i + BATCH]) > 0 for i in range(0, len(images), BATCH)])
    hits = is_b if domain == "B" else ~is_b
    return int(hits.sum()), len(images)


# --- CycleGAN: report ----------------------------------------------------------------------
@dataclass
class DomainRow:
    """One line of the domain table: which images, the domain they should be in, and how many are."""

    images: str
    domain: str
    hits: int
    total: int

    @property
    def share(self) -> float:
        return self.hits / self.total if self.total else float("nan")


@dataclass
class PairResult:
    """What one generator pair does to the held-out images: target-domain shares and cycle L1."""

    rows: list[DomainRow]  # A→B translations judged against B, then B→A against A
    cycle_l1: dict[str, float]  # "A" = mean |G_B(G_A(a)) − a|, "B" = mean |G_A(G_B(b)) − b|, [0, 1] units


@dataclass
class CycleGanReport:
    """Classifier check, then the model's (and optionally an untrained baseline's) translation results."""

    classifier_rows: list[DomainRow]  # held-out real images: does the classifier work?
    model: PairResult
    baseline: PairResult | None  # an untrained generator pair of the same architecture, if given
    classifier_steps: int
    classifier_seed: int
    image_size: int

    @property
    def cycle_l1(self) -> dict[str, float]:
        return self.model.cycle_l1


def cycle_l1(back: nn.Module, images: torch.Tensor, translated: torch.Tensor) -> float:
    """Mean |back(translated) − images| in [0, 1] pixel units: half the L1 the training loss sees in [-1, 1]."""
    returned = translate_all(back, translated)
    return float((from_unit_range(returned) - from_unit_range(images)).abs().mean())


def judge_pair(generators: Mapping[str, nn.Module], real_a: torch.Tensor, real_b: torch.Tensor,
               classifier: DomainClassifier, who: str = "") -> PairResult:
    """Translate both held-out domains, ask the classifier where each translation landed, and go back."""
    g_a, g_b = generators["a_to_b"], generators["b_to_a"]
    fake_b, fake_a = translate_all(g_a, real_a), translate_all(g_b, real_b)
    rows = [DomainRow(f"A→B translations G_A(a){who}", "B", *share_in_domain(classifier, fake_b, "B")),
            DomainRow(f"B→A translations G_B(b){who}", "A", *share_in_domain(classifier, fake_a, "A"))]
    return PairResult(rows, {"A": cycle_l1(g_b, real_a, fake_b), "B": cycle_l1(g_a, real_b, fake_a)})


def evaluate_cyclegan(generators: Mapping[str, nn.Module], data: PairedDataset, steps: int = CLASSIFIER_STEPS,
                      seed: int = CLASSIFIER_SEED, baseline: Mapping[str, nn.Module] | None = None) -> CycleGanReport:
    """Everything the CycleGAN tables show, from generators keyed "a_to_b"/"b_to_a" (the checkpoint's ModuleDict).

    A two-class classifier must put every image somewhere, so output that is neither domain still
    counts for one of them; `baseline` (untrained generators) shows how many such images it gives.
    """
    real_a, real_b = to_unit_range(data.test_images), to_unit_range(data.test_targets)
    classifier = train_domain_classifier(data, steps, seed)
    checks = [DomainRow("held-out real A", "A", *share_in_domain(classifier, real_a, "A")),
              DomainRow("held-out real B", "B", *share_in_domain(classifier, real_b, "B"))]
    untrained = None if baseline is None else judge_pair(baseline, real_a, real_b, classifier, " — untrained baseline")
    return CycleGanReport(checks, judge_pair(generators, real_a, real_b, classifier), untrained,
                          classifier_steps=steps, classifier_seed=seed, image_size=data.crop_size)


def untrained_generators(model: LoadedGenerator, seed: int = CLASSIFIER_SEED) -> nn.Module:
    """A freshly initialised generator pair of the checkpoint's own config: the baseline rows' generators."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return get_variant(model.variant).model_class.build_generator(model.config, model.dataset.image_shape, 0)


def cyclegan_table(report: CycleGanReport) -> str:
    """The report as two markdown tables: domain shares (classifier check first), then cycle L1."""
    lines = [f"Domain classifier: a small CNN trained here for {report.classifier_steps} steps on the training "
             f"images of both domains (seed {report.classifier_seed}), at most {CLASSIFIER_SIZE}×{CLASSIFIER_SIZE}.", "",
             "| images | should be | classified so | share |", "|---|---|---|---|"]
    results = [report.model] + ([report.baseline] if report.baseline else [])
    for row in report.classifier_rows + [row for result in results for row in result.rows]:
        lines.append(f"| {row.images} | {row.domain} | {row.hits} / {row.total} | {row.share:.1%} |")
    header = "| cycle | mean L1, [0, 1] pixel units |" + (" untrained baseline |" if report.baseline else "")
    lines += ["", header, "|---|---|" + ("---|" if report.baseline else "")]
    for side, text in (("A", "A → B → A: \\|G_B(G_A(a)) − a\\|"), ("B", "B → A → B: \\|G_A(G_B(b)) − b\\|")):
        lines.append(f"| {text} | " + " | ".join(f"{result.cycle_l1[side]:.4f}" for result in results) + " |")
    return "\n".join(lines)


def cyclegan_report(model: LoadedGenerator, data: PairedDataset, steps: int = CLASSIFIER_STEPS,
                    seed: int = CLASSIFIER_SEED) -> str:
    """The CycleGAN branch of the script: heading line, then `cyclegan_table` with the untrained baseline."""
    report = evaluate_cyclegan(model.generator, data, steps, seed, baseline=untrained_generators(model, seed))
    heading = (f"{model.variant} on {model.config.dataset}, step {model.step}, {len(data.test_images)} held-out A "
               f"and {len(data.test_targets)} held-out B images at {report.image_size}×{report.image_size}")
    return f"{heading}\n\n{cyclegan_table(report)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--classifier-steps", type=int, default=CLASSIFIER_STEPS,
                        help=f"CycleGAN: training steps of the domain classifier (default {CLASSIFIER_STEPS})")
    parser.add_argument("--seed", type=int, default=CLASSIFIER_SEED, help="CycleGAN: the domain classifier's seed")
    parser.add_argument("--whole-picture", action="store_true",
                        help="pix2pix on an embedded task: score the held-out photo whole, as the translate page shows it")
    args = parser.parse_args()
    if args.whole_picture:
        try:
            print(whole_picture_report(args.checkpoint))
        except GanStudioError as error:
            parser.error(str(error))
        return
    try:
        model = load_generator(args.checkpoint)
    except GanStudioError as error:
        parser.error(str(error))
    reports: dict[str, Callable[[PairedDataset], str]] = {
        "pix2pix": lambda data: pix2pix_report(model, data),
        "cyclegan": lambda data: cyclegan_report(model, data, args.classifier_steps, args.seed)}
    if model.variant not in reports:
        parser.error(f"{args.checkpoint.name} is a {model.variant} checkpoint; this script measures "
                     f"{' and '.join(reports)} translators")
    print(reports[model.variant](task_data(model)))


if __name__ == "__main__":
    main()
