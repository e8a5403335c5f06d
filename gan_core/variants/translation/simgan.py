"""SimGAN (Shrivastava et al. 2017): refine a simulator's labelled images until they look real, keeping the labels.

The refiner R takes a synthetic image x (not noise) and returns R(x) of the same size. It minimises

    Σ_patches -log D(R(x))  +  λ ‖ψ(R(x)) - ψ(x)‖₁

where D scores each local patch (a map of probabilities, the loss summed over the map) and the L1 term, summed
over pixels, keeps R(x) close to x so the label the simulator drew stays true. ψ is the paper's feature transform:
the identity by default, or a small box blur (`regularisation_blur`), which lets R reshape a stroke's outline
while still holding the ink where the simulator put it. D learns to tell real (unlabelled) images from refined
ones; half of each D batch is refined images from a history buffer of past refiners, so R
cannot win by moving somewhere D has forgotten. As in the paper, one run goes through three phases: R trained on
self-regularisation alone (it learns to copy its input), then D alone, then the adversarial game with
`refiner_updates` R updates per D update (the paper's K_g = 2, K_d = 1). The phase is the trainer's step, so
a resumed run continues in the right phase; the history buffer is saved with the run.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.config import FieldRule, SettingGroup, TrainConfig
from gan_core.data.paired import PairedDataset
from gan_core.data.types import ImageDataset, to_unit_range
from gan_core.errors import DatasetUnavailableError
from gan_core.nets.simgan import LocalDiscriminator, Refiner
from gan_core.registry import VariantSpec
from gan_core.samples import REFINED_PAIRS
from gan_core.variants.base import BatchSource, total_grad_norm
from gan_core.variants.translation.base import NETWORKS, OPTIMISER, ImageToImageGan, freeze

PREVIEW_ROWS = 8
PHASES = ("refiner pre-training", "discriminator pre-training", "adversarial")


class HistoryBuffer(nn.Module):
    """Refined images from earlier steps, half of every discriminator batch once it holds enough.

    `mix(refined)` keeps the first half of the batch and replaces the second half with images drawn at random
    from the buffer; `push(refined)` then writes half of the batch over random slots (filling empty slots first).
    The images and the fill count are buffers of the module, so they are saved with the run and a resumed run
    draws the same ones. Random slots come from the global torch RNG of the images' device.
    """

    def __init__(self, capacity: int, image_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.capacity = capacity
        self.register_buffer("images", torch.zeros(capacity, *image_shape))
        self.register_buffer("filled", torch.zeros((), dtype=torch.int64))

    def mix(self, refined: torch.Tensor) -> torch.Tensor:
        """The batch D sees: the newest half of `refined`, then as many past refined images (while too few are
        stored, the whole new batch)."""
        refined = refined.detach()
        half = refined.shape[0] // 2
        filled = int(self.filled)
        if self.capacity == 0 or half == 0 or filled < half:
            return refined
        slots = torch.randint(0, filled, (refined.shape[0] - half,), device=refined.device)
        return torch.cat([refined[:half], self.images[slots].to(refined.dtype)])

    def push(self, refined: torch.Tensor) -> None:
        """Store half of `refined` (at least one image): into empty slots first, then over random ones."""
        if self.capacity == 0:
            return
        newest = refined.detach()[: max(1, refined.shape[0] // 2)]
        filled = int(self.filled)
        free = min(self.capacity - filled, newest.shape[0])
        if free:
            self.images[filled:filled + free] = newest[:free].to(self.images.dtype)
            self.filled.fill_(filled + free)
        rest = newest[free:]
        if rest.shape[0]:
            slots = torch.randperm(self.capacity, device=self.images.device)[: rest.shape[0]]
            self.images[slots] = rest.to(self.images.dtype)


def self_regularisation(refined: torch.Tensor, synthetic: torch.Tensor, blur: int = 0) -> torch.Tensor:
    """‖ψ(R(x)) - ψ(x)‖₁ summed over each image's pixels, averaged over the batch (zero when R copies its input).

    ψ is the paper's feature transform: the identity for `blur` 0, otherwise the mean over a box of side
    2·blur + 1 around each pixel. Blurred, the term still pins down where the ink is and how much of it there is,
    so the digit keeps its label, but stops charging for every pixel of a stroke's outline: a serif can be trimmed
    or a stroke rounded for the price of the ink it moves, not of every pixel it changes.
    """
    difference = refined - synthetic
    if blur > 0:
        difference = F.avg_pool2d(difference, 2 * blur + 1, stride=1, padding=blur, count_include_pad=False)
    return difference.abs().flatten(1).sum(1).mean()


def local_adversarial(patch_logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Cross-entropy of every patch's score against one target, summed over the patch map, averaged over the batch.

    Scores are computed in float32 (under bf16 autocast too): the sum runs over dozens of patches.
    """
    logits = patch_logits.float()
    per_patch = F.softplus(-logits) if real else F.softplus(logits)
    return per_patch.flatten(1).sum(1).mean()


class UnpairedDomains:
    """Random (synthetic, real) batches in [-1, 1], drawn independently; no crops or flips (digits are not
    mirror-symmetric). Uses the global torch RNG of the device, so a saved RNG state decides the batches."""

    def __init__(self, dataset: PairedDataset, batch_size: int, device: torch.device) -> None:
        self.synthetic = dataset.images.to(device)
        self.real = dataset.targets.to(device)
        self.batch_size = batch_size
        self.device = device

    def _draw(self, images: torch.Tensor) -> torch.Tensor:
        index = torch.randint(0, images.shape[0], (self.batch_size,), device=self.device)
        return to_unit_range(images.index_select(0, index))

    def __call__(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._draw(self.synthetic), self._draw(self.real)


class SimGAN(ImageToImageGan):
    """Refiner (the generator) and a local patch discriminator, with a history buffer of refined images."""

    weight_init = None  # PyTorch's defaults: a ResNet with no norm layers trains poorly from N(0, 0.02)

    def __init__(self, config: TrainConfig, image_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__(config, image_shape, num_classes)
        self.history = HistoryBuffer(SPEC.value(config, "history_size"), self.image_shape)
        self.weight = SPEC.value(config, "self_regularisation")
        self.blur = SPEC.value(config, "regularisation_blur")
        self.refiner_pretraining = SPEC.value(config, "refiner_pretrain_steps")
        self.discriminator_pretraining = SPEC.value(config, "discriminator_pretrain_steps")
        self.refiner_updates = SPEC.value(config, "refiner_updates")

    @classmethod
    def build_generator(cls, config: TrainConfig, image_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
        return Refiner(image_shape[0], config.width, SPEC.value(config, "refiner_blocks"))

    @classmethod
    def build_discriminator(
        cls, config: TrainConfig, image_shape: tuple[int, int, int], num_classes: int
    ) -> nn.Module:
        return LocalDiscriminator(image_shape[0], SPEC.value(config, "discriminator_width"))

    def batch_source(self, dataset: ImageDataset, batch_size: int, device: torch.device) -> BatchSource:
        if not isinstance(dataset, PairedDataset):
            raise DatasetUnavailableError(
                f"simgan refines synthetic images towards real ones and needs two domains (synthetic_digits); "
                f"{dataset.name!r} has only one")
        return UnpairedDomains(dataset, batch_size, device)

    def phase(self, step: int) -> int:
        """0 while R learns to copy, 1 while D learns alone, 2 in the adversarial game."""
        if step < self.refiner_pretraining:
            return 0
        return 1 if step < self.refiner_pretraining + self.discriminator_pretraining else 2

    def train_step(self, next_batch: BatchSource) -> dict[str, torch.Tensor]:
        phase = self.phase(self.steps_done)
        zero = torch.zeros((), device=self.history.images.device)
        logs = {"R_adversarial": zero, "self_regularisation": zero, "D_real": zero, "D_refined": zero,
                "grad_norm_R": zero, "grad_norm_D": zero}
        if phase != 1:
            for _ in range(1 if phase == 0 else self.refiner_updates):
                logs.update(self._refiner_update(next_batch()[0], adversarial=phase == 2))
        if phase != 0:
            logs.update(self._discriminator_update(*next_batch()))
        self.update_ema()
        logs["phase"] = torch.full((), float(phase), device=zero.device)
        return logs

    def _refiner_update(self, synthetic: torch.Tensor, adversarial: bool) -> dict[str, torch.Tensor]:
        refined = self.generator(synthetic)
        regularisation = self_regularisation(refined.float(), synthetic.float(), self.blur)
        terms = {"self_regularisation": regularisation * self.weight}
        if adversarial:
            freeze(self.discriminator, True)
            terms["R_adversarial"] = local_adversarial(self.discriminator(refined), real=True)
            freeze(self.discriminator, False)
        optimizer = self.optimizers["generator"]
        optimizer.zero_grad(set_to_none=True)
        sum(terms.values()).backward()
        terms["grad_norm_R"] = total_grad_norm(self.generator)
        optimizer.step()
        return {name: value.detach() for name, value in terms.items()}

    def _discriminator_update(self, synthetic: torch.Tensor, real: torch.Tensor) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            refined = self.generator(synthetic)
        seen = self.history.mix(refined)
        terms = {"D_real": local_adversarial(self.discriminator(real), real=True),
                 "D_refined": local_adversarial(self.discriminator(seen), real=False)}
        optimizer = self.optimizers["discriminator"]
        optimizer.zero_grad(set_to_none=True)
        (terms["D_real"] + terms["D_refined"]).backward()
        terms["grad_norm_D"] = total_grad_norm(self.discriminator)
        optimizer.step()
        self.history.push(refined)
        return {name: value.detach() for name, value in terms.items()}

    def setup_preview(self, dataset: ImageDataset, device: torch.device, seed: int) -> None:
        if not isinstance(dataset, PairedDataset):
            raise DatasetUnavailableError(f"{dataset.name!r} is not a synthetic-and-real dataset")
        self.preview_a = to_unit_range(dataset.test_images[:PREVIEW_ROWS].to(device))

    def preview_rows(self) -> list[torch.Tensor]:
        """Held-out synthetic digits, their refinements, and |refined - synthetic| (black: unchanged)."""
        refined = self.sampling_generator()(self.preview_a)
        return [self.preview_a, refined, difference_image(refined, self.preview_a)]


def difference_image(refined: torch.Tensor, synthetic: torch.Tensor) -> torch.Tensor:
    """|refined - synthetic| as an image in [-1, 1]: black where nothing changed, white for a full swing."""
    return (refined - synthetic).abs().sub(1.0).clamp(-1.0, 1.0)


SPEC = VariantSpec(
    name="simgan",
    title="SimGAN",
    summary="Refines a simulator's labelled images (digits rendered from fonts) until they look like real ones, "
            "keeping their labels: a refiner, a local patch discriminator, self-regularisation and a history buffer.",
    objective=r"\begin{aligned}&\min_R\ \textstyle\sum_{\text{patches}}-\log D(R(x))"
              r"+\lambda\,\|R(x)-x\|_1\\"
              r"&\min_D\ \textstyle\sum_{\text{patches}}-\log D(y)-\log\big(1-D(\tilde x)\big),\\"
              r"&\tilde x\in R(x)\cup\text{history}\end{aligned}",
    paper="Shrivastava et al., 2017 — Learning from Simulated and Unsupervised Images through Adversarial Training",
    model_class=SimGAN,
    defaults={"dataset": "synthetic_digits", "image_size": 28, "width": 16, "batch_size": 64, "lr_g": 2e-4,
              "lr_d": 2e-4, "beta1": 0.5, "steps": 1800, "lr_decay_start": 1.0, "sample_every": 250,
              "checkpoint_every": 500},
    settings=(OPTIMISER, NETWORKS, SettingGroup("Refinement", (
        "self_regularisation", "regularisation_blur", "history_size", "refiner_pretrain_steps",
        "discriminator_pretrain_steps", "refiner_updates", "refiner_blocks", "discriminator_width"))),
    own_settings={
        "self_regularisation": FieldRule(float, 0.0, 100.0, default=0.5, help="SimGAN: λ, the weight of the L1 "
                                         "distance between refined and synthetic images (keeps their labels)"),
        "regularisation_blur": FieldRule(int, 0, 4, default=0, help="SimGAN: the self-regularisation compares "
                                         "box averages of this radius (r: boxes of 2r + 1 pixels); 0 compares "
                                         "pixels, the paper's identity feature transform"),
        "history_size": FieldRule(int, 0, 100_000, default=2048, help="SimGAN: refined images kept for the "
                                  "discriminator's history half-batches; 0 shows it only the newest"),
        "refiner_pretrain_steps": FieldRule(int, 0, 1_000_000, default=300, help="SimGAN: first steps training the "
                                            "refiner on self-regularisation alone"),
        "discriminator_pretrain_steps": FieldRule(int, 0, 1_000_000, default=200, help="SimGAN: then steps "
                                                  "training the discriminator alone"),
        "refiner_updates": FieldRule(int, 1, 100, default=2, help="SimGAN: refiner updates per discriminator "
                                     "update in the adversarial phase (the paper's K_g = 2)"),
        "discriminator_width": FieldRule(int, 4, 256, default=16, help="SimGAN: the discriminator's last feature "
                                         "maps; 32 is the paper's 96-64-32-32 network (width sets the refiner's)"),
        "refiner_blocks": FieldRule(int, 1, 16, default=4, help="SimGAN: ResNet blocks in the refiner (the "
                                    "paper's 4)"),
    },
    sample_kind=REFINED_PAIRS,
    data="image_pairs",
    page="/refine",
    discriminator="discriminator",
    preview_columns=("synthetic", "refined", "|refined − synthetic|"),
)
