"""Training throughput: GAN Studio's Trainer against the loop a user copies from the common tutorial.

Both sides train the same networks (the registry's ConvGenerator/ConvDiscriminator, or pix2pix's
U-Net and PatchGAN, same width), on the same data, at the same batch size, for the same number of
generator steps, in one process, in alternating rounds so that background load hits both alike.
The figure is real images consumed per second of the training loop; dataset loading and model
building are timed separately and left out of it, as are the first warm-up steps.

The reference is what the tutorials teach: a torchvision-style Dataset of PIL images with a
per-sample `transforms.Compose`, a shuffling `DataLoader(num_workers=0)`, a final `nn.Sigmoid()`
with `nn.BCELoss`, `optimizer.zero_grad()` and `.item()` of every loss every step. The Trainer keeps
the data on the device as uint8, batches it with one gather, uses BCE-with-logits and reads its
metrics back once per `log_every` steps.

    python -m benchmarks.throughput                  # every case, CPU, 3 rounds (sized for < 10 min on 2 free cores; longer under load)
    python -m benchmarks.throughput --only dcgan cgan --rounds 5
    python -m benchmarks.throughput --device cuda --steps 300
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from gan_core.checkpoints import load_generator
from gan_core.config import TrainConfig
from gan_core.data.catalogue import load_dataset
from gan_core.data.paired import PairedDataset, load_size
from gan_core.data.types import ImageDataset
from gan_core.device import PRECISION_CHOICES, autocast_dtype, has_native_bfloat16
from gan_core.inference import generate
from gan_core.registry import config_for, get_variant
from gan_core.training.trainer import Callback, Trainer

SAMPLING_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "infogan-mnist.safetensors"
SAMPLING_REPEATS = 20
SAMPLING_TARGET_MS = 20.0


@dataclass(frozen=True)
class Case:
    """One comparison: a registry variant at a size and batch, timed for `steps` generator steps."""

    variant: str
    image_size: int
    batch_size: int
    steps: int  # timed generator steps on the CPU; chosen so a full run stays under 10 minutes
    warmup: int  # untimed steps first; also the Trainer's log interval, whose first log point starts its clock
    precision: str = "fp32"  # the Trainer's TrainConfig.precision; the reference is always the tutorial's float32


CASES = (
    Case("dcgan", 32, 64, 60, 10),
    Case("cgan", 32, 64, 60, 10),
    Case("wgan_gp", 32, 64, 12, 3),
    Case("pix2pix", 128, 8, 6, 2),
)


@dataclass(frozen=True)
class Timing:
    """Real images consumed in the timed part, its seconds, and the excluded set-up seconds."""

    images: int
    seconds: float
    setup_seconds: float

    @property
    def images_per_s(self) -> float:
        return self.images / self.seconds


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a clock reading means the work before it is done."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def case_config(case: Case, steps: int, device: torch.device, seed: int) -> TrainConfig:
    """The registry's config for the case; samples and checkpoints only at the very end (outside the clock)."""
    total = case.warmup + steps
    return config_for(
        case.variant, image_size=case.image_size, batch_size=case.batch_size, steps=total,
        device=device.type, seed=seed, log_every=case.warmup, sample_every=total, checkpoint_every=total,
        precision=case.precision,
    )


# --- the Trainer side -----------------------------------------------------------------------------
class LogClock(Callback):
    """Notes the time of each log point: the loop is timed between the first and the last of them.

    Log points come after the Trainer's device-to-host flush, so GPU work up to them is finished, and
    the first sample grid and the final checkpoint fall outside that interval.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.created = time.perf_counter()
        self.started = self.created
        self.marks: dict[int, float] = {}

    def on_start(self, trainer: Trainer) -> None:
        self.started = time.perf_counter()

    def on_log(self, step: int, metrics: dict[str, float]) -> None:
        synchronize(self.device)
        self.marks[step] = time.perf_counter()


def time_trainer(case: Case, dataset: ImageDataset, steps: int, device: torch.device, seed: int) -> Timing:
    """Run GAN Studio's Trainer and time its loop from the end of warm-up to the last step."""
    config = case_config(case, steps, device, seed)
    clock = LogClock(device)
    with tempfile.TemporaryDirectory() as run_dir:
        result = Trainer(config, run_dir, [clock], dataset=dataset).run()
    if result.status != "finished":
        raise RuntimeError(f"trainer run for {case.variant} ended {result.status}: {result.message}")
    seconds = clock.marks[config.steps] - clock.marks[case.warmup]
    images = steps * config.batch_size * config.n_critic
    return Timing(images, seconds, clock.started - clock.created)


# --- the reference side: data ---------------------------------------------------------------------
class PilDigits(Dataset):
    """The tutorial's dataset: one PIL image per sample, transformed one at a time in `__getitem__`.

    It holds the very images the Trainer trains on (already at the training size, so its Resize is a
    cheap copy: that favours the reference).
    """

    def __init__(self, dataset: ImageDataset, image_size: int) -> None:
        self.pictures = [Image.fromarray(image[0].numpy(), mode="L") for image in dataset.images]
        self.labels = dataset.labels.tolist() if dataset.labels is not None else [0] * len(self.pictures)
        self.transform = transforms.Compose([
            transforms.Resize(image_size),
            transforms.ToTensor(),
            transforms.Normalize((0.5,), (0.5,)),
        ])

    def __len__(self) -> int:
        return len(self.pictures)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(self.pictures[index]), self.labels[index]


class PilPairs(Dataset):
    """The official pix2pix AlignedDataset: per sample, resize to the load size, one random crop and
    flip shared by A and B (from Python's `random`), ToTensor, Normalize.
    """

    def __init__(self, dataset: PairedDataset) -> None:
        self.a = [Image.fromarray(image.permute(1, 2, 0).numpy()) for image in dataset.images]
        self.b = [Image.fromarray(image.permute(1, 2, 0).numpy()) for image in dataset.targets]
        self.crop = dataset.crop_size
        self.load = load_size(dataset.crop_size)

    def __len__(self) -> int:
        return len(self.a)

    def _transform(self, top: int, left: int, flip: bool) -> Callable[[Image.Image], torch.Tensor]:
        """Built per sample with its crop and flip, as the official `get_transform(opt, params)` is."""
        steps: list[Callable] = [
            transforms.Resize([self.load, self.load], transforms.InterpolationMode.BICUBIC),
            transforms.Lambda(lambda image: image.crop((left, top, left + self.crop, top + self.crop))),
        ]
        if flip:
            steps.append(transforms.Lambda(lambda image: image.transpose(Image.FLIP_LEFT_RIGHT)))
        steps += [transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]
        return transforms.Compose(steps)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        slack = self.load - self.crop
        transform = self._transform(random.randint(0, slack), random.randint(0, slack), random.random() > 0.5)
        return transform(self.a[index]), transform(self.b[index])


def endless(loader: DataLoader) -> Iterator:
    """Epoch after epoch, as a tutorial's `for epoch ...: for batch in loader` does."""
    while True:
        yield from loader


# --- the reference side: networks and steps -------------------------------------------------------
class SigmoidDiscriminator(nn.Module):
    """Our discriminator's adversarial head followed by the tutorial's final `nn.Sigmoid()`."""

    def __init__(self, discriminator: nn.Module, sigmoid: bool) -> None:
        super().__init__()
        self.discriminator = discriminator
        self.output = nn.Sigmoid() if sigmoid else nn.Identity()

    def forward(self, images: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        return self.output(self.discriminator(images, condition)["adv"]).view(-1)


@dataclass
class ReferenceParts:
    """What a tutorial script builds before its loop."""

    generator: nn.Module
    discriminator: nn.Module
    optimizer_g: torch.optim.Optimizer
    optimizer_d: torch.optim.Optimizer
    batches: Iterator
    config: TrainConfig
    num_classes: int


def build_reference(case: Case, dataset: ImageDataset, config: TrainConfig, device: torch.device) -> ReferenceParts:
    """PIL dataset, DataLoader and the registry's networks (plus Sigmoid where the objective is BCE)."""
    spec = get_variant(case.variant)
    shape, classes = dataset.image_shape, dataset.num_classes
    generator = spec.model_class.build_generator(config, shape, classes).to(device)
    discriminator = spec.model_class.build_discriminator(config, shape, classes)
    if spec.image_to_image:
        data: Dataset = PilPairs(dataset)  # type: ignore[arg-type]
    else:
        data = PilDigits(dataset, case.image_size)
        discriminator = SigmoidDiscriminator(discriminator, sigmoid=config.objective == "nonsaturating")
    discriminator = discriminator.to(device)
    betas = (config.beta1, config.beta2)
    return ReferenceParts(
        generator, discriminator,
        torch.optim.Adam(generator.parameters(), lr=config.lr_g, betas=betas),
        torch.optim.Adam(discriminator.parameters(), lr=config.lr_d, betas=betas),
        endless(DataLoader(data, batch_size=config.batch_size, shuffle=True, num_workers=0)),
        config, classes if spec.conditional else 0,
    )


def label_planes(labels: torch.Tensor, num_classes: int, size: int) -> torch.Tensor | None:
    """CGAN's discriminator condition: the one-hot label as constant planes (None when unconditional)."""
    if not num_classes:
        return None
    return F.one_hot(labels, num_classes).float()[:, :, None, None].expand(-1, -1, size, size)


def generator_input(noise: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    return torch.cat([noise, F.one_hot(labels, num_classes).float()], 1) if num_classes else noise


def dcgan_tutorial_step(parts: ReferenceParts, device: torch.device, log: list[float]) -> int:
    """One step of the PyTorch DCGAN tutorial (CGAN adds labels); returns the real images it used."""
    criterion, generator, discriminator = nn.BCELoss(), parts.generator, parts.discriminator
    real, labels = next(parts.batches)
    real, labels = real.to(device), labels.to(device)
    size, classes = real.size(0), parts.num_classes
    target = torch.full((size,), 1.0, device=device)
    parts.optimizer_d.zero_grad()
    output = discriminator(real, label_planes(labels, classes, real.size(-1)))
    loss_d_real = criterion(output, target)
    loss_d_real.backward()
    d_x = output.mean().item()
    noise = torch.randn(size, parts.config.noise_dim, device=device)
    fake_labels = torch.randint(0, max(classes, 1), (size,), device=device)
    fake = generator(generator_input(noise, fake_labels, classes))
    target.fill_(0.0)
    fake_planes = label_planes(fake_labels, classes, real.size(-1))
    output = discriminator(fake.detach(), fake_planes)
    loss_d_fake = criterion(output, target)
    loss_d_fake.backward()
    d_g_z1 = output.mean().item()
    parts.optimizer_d.step()
    parts.optimizer_g.zero_grad()
    target.fill_(1.0)
    output = discriminator(fake, fake_planes)
    loss_g = criterion(output, target)
    loss_g.backward()
    d_g_z2 = output.mean().item()
    parts.optimizer_g.step()
    log += [(loss_d_real + loss_d_fake).item(), loss_g.item(), d_x, d_g_z1, d_g_z2]
    return size


def tutorial_gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The gradient penalty as the common WGAN-GP tutorial writes it."""
    alpha = torch.rand(real.size(0), 1, 1, 1, device=real.device)
    interpolates = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(interpolates)
    gradients = torch.autograd.grad(
        outputs=scores, inputs=interpolates, grad_outputs=torch.ones_like(scores),
        create_graph=True, retain_graph=True, only_inputs=True,
    )[0]
    gradients = gradients.view(gradients.size(0), -1)
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean()


def wgan_gp_tutorial_step(parts: ReferenceParts, device: torch.device, log: list[float]) -> int:
    """n_critic critic updates, each on a fresh batch and logged with .item(), then one generator update."""
    generator, critic, config = parts.generator, parts.discriminator, parts.config
    used = 0
    for _ in range(config.n_critic):
        real, _ = next(parts.batches)
        real = real.to(device)
        used += real.size(0)
        noise = torch.randn(real.size(0), config.noise_dim, device=device)
        fake = generator(noise)
        parts.optimizer_d.zero_grad()
        penalty = tutorial_gradient_penalty(critic, real.data, fake.data)
        loss_d = -torch.mean(critic(real)) + torch.mean(critic(fake.detach())) + config.gp_weight * penalty
        loss_d.backward()
        parts.optimizer_d.step()
        log.append(loss_d.item())
    parts.optimizer_g.zero_grad()
    fake = generator(torch.randn(real.size(0), config.noise_dim, device=device))
    loss_g = -torch.mean(critic(fake))
    loss_g.backward()
    parts.optimizer_g.step()
    log.append(loss_g.item())
    return used


def set_requires_grad(module: nn.Module, flag: bool) -> None:
    for parameter in module.parameters():
        parameter.requires_grad = flag


def pix2pix_official_step(parts: ReferenceParts, device: torch.device, log: list[float]) -> int:
    """The official pix2pix `optimize_parameters` (vanilla GANLoss is BCE-with-logits there), .item() each loss."""
    criterion, l1 = nn.BCEWithLogitsLoss(), nn.L1Loss()
    generator, discriminator = parts.generator, parts.discriminator
    real_a, real_b = (tensor.to(device) for tensor in next(parts.batches))
    fake_b = generator(real_a)
    set_requires_grad(discriminator, True)
    parts.optimizer_d.zero_grad()
    pred_fake = discriminator(torch.cat((real_a, fake_b), 1).detach())
    loss_d_fake = criterion(pred_fake, torch.tensor(0.0, device=device).expand_as(pred_fake))
    pred_real = discriminator(torch.cat((real_a, real_b), 1))
    loss_d_real = criterion(pred_real, torch.tensor(1.0, device=device).expand_as(pred_real))
    loss_d = (loss_d_fake + loss_d_real) * 0.5
    loss_d.backward()
    parts.optimizer_d.step()
    set_requires_grad(discriminator, False)
    parts.optimizer_g.zero_grad()
    pred_fake = discriminator(torch.cat((real_a, fake_b), 1))
    loss_g_gan = criterion(pred_fake, torch.tensor(1.0, device=device).expand_as(pred_fake))
    loss_g_l1 = l1(fake_b, real_b) * parts.config.l1_weight
    (loss_g_gan + loss_g_l1).backward()
    parts.optimizer_g.step()
    log += [loss_g_gan.item(), loss_g_l1.item(), loss_d_real.item(), loss_d_fake.item()]
    return real_a.size(0)


def reference_step_for(config: TrainConfig) -> Callable[[ReferenceParts, torch.device, list[float]], int]:
    """The tutorial loop body that matches the variant's objective."""
    if get_variant(config.variant).image_to_image:
        return pix2pix_official_step
    if config.gp_weight > 0:
        return wgan_gp_tutorial_step
    return dcgan_tutorial_step


def time_reference(case: Case, dataset: ImageDataset, steps: int, device: torch.device, seed: int) -> Timing:
    """Build the tutorial's pieces (timed as set-up), warm up, then time `steps` generator steps."""
    config = case_config(case, steps, device, seed)
    torch.manual_seed(seed)
    random.seed(seed)
    started = time.perf_counter()
    parts = build_reference(case, dataset, config, device)
    setup = time.perf_counter() - started
    step, log = reference_step_for(config), []
    for _ in range(case.warmup):
        step(parts, device, log)
    synchronize(device)
    started, images = time.perf_counter(), 0
    for _ in range(steps):
        images += step(parts, device, log)
    synchronize(device)
    return Timing(images, time.perf_counter() - started, setup)


# --- sampling -------------------------------------------------------------------------------------
def sampling_ms(device: torch.device) -> float:
    """Median milliseconds for a 64-image grid from the shipped InfoGAN, after warm-up."""
    model = load_generator(SAMPLING_CHECKPOINT, device)
    for seed in range(3):
        generate(model, 64, seed=seed)
    times = []
    for seed in range(SAMPLING_REPEATS):
        started = time.perf_counter()
        generate(model, 64, seed=seed)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


# --- the run --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseResult:
    case: Case
    steps: int
    dataset_seconds: float
    reference: list[Timing]
    trainer: list[Timing]


def run_case(case: Case, steps: int, rounds: int, device: torch.device) -> CaseResult:
    """Alternate the two sides round by round (A B, B A, ...) so drifting load hits both alike."""
    started = time.perf_counter()
    dataset = load_dataset(get_variant(case.variant).default_config().dataset, case.image_size)
    dataset_seconds = time.perf_counter() - started
    reference: list[Timing] = []
    trainer: list[Timing] = []
    for round_index in range(rounds):
        sides = [(time_reference, reference), (time_trainer, trainer)]
        for timer, timings in sides if round_index % 2 == 0 else sides[::-1]:
            timings.append(timer(case, dataset, steps, device, round_index))
        print(f"  {case.variant} round {round_index + 1}: reference {reference[-1].images_per_s:.0f} img/s, "
              f"trainer {trainer[-1].images_per_s:.0f} img/s", flush=True)
    return CaseResult(case, steps, dataset_seconds, reference, trainer)


def median_rate(timings: list[Timing]) -> float:
    return statistics.median(timing.images_per_s for timing in timings)


def table(results: list[CaseResult]) -> str:
    """The Markdown table BENCHMARKS.md shows: median images/s over rounds, their ratio, and the excluded set-up."""
    lines = [
        "| variant | image | batch | timed steps × rounds | reference img/s | trainer img/s | trainer / reference "
        "| set-up excluded: data load, reference build, trainer build (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        case, reference, trainer = result.case, median_rate(result.reference), median_rate(result.trainer)
        spread = (f"{min(t.images_per_s for t in result.trainer) / max(t.images_per_s for t in result.reference):.2f}–"
                  f"{max(t.images_per_s for t in result.trainer) / min(t.images_per_s for t in result.reference):.2f}")
        setups = (f"{result.dataset_seconds:.2f}, {statistics.median(t.setup_seconds for t in result.reference):.2f}, "
                  f"{statistics.median(t.setup_seconds for t in result.trainer):.2f}")
        lines.append(
            f"| {case.variant} | {case.image_size}×{case.image_size} | {case.batch_size} | "
            f"{result.steps} × {len(result.trainer)} | {reference:.0f} | {trainer:.0f} | "
            f"**{trainer / reference:.2f}×** (range {spread}) | {setups} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed generator steps per round for every case (default: per case, sized for the CPU)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per case; medians are reported")
    parser.add_argument("--precision", choices=PRECISION_CHOICES, default="fp32",
                        help="the Trainer's precision (auto: bf16 where the device has native bfloat16); the "
                             "reference always runs the tutorial's float32")
    parser.add_argument("--only", nargs="+", choices=[case.variant for case in CASES], help="run only these cases")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    capability = torch.backends.cpu.get_cpu_capability() if device.type == "cpu" else "n/a"
    print(f"device {name} ({device.type}, CPU capability {capability}, native bfloat16 "
          f"{has_native_bfloat16(device)}), torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"trainer precision {args.precision} (autocast {autocast_dtype(device, args.precision)}), "
          "warm-up steps per side per round are untimed", flush=True)
    started = time.perf_counter()
    results = [
        run_case(dataclasses.replace(case, precision=args.precision), args.steps or case.steps, args.rounds, device)
        for case in CASES if not args.only or case.variant in args.only
    ]
    print()
    print(table(results))
    milliseconds = sampling_ms(device)
    verdict = "meets" if milliseconds < SAMPLING_TARGET_MS else "misses"
    print(f"\nsampling: 64-image 32×32 grid from {SAMPLING_CHECKPOINT.name} through gan_core.inference.generate: "
          f"median {milliseconds:.1f} ms of {SAMPLING_REPEATS} ({verdict} the {SAMPLING_TARGET_MS:.0f} ms target)")
    print(f"total wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
