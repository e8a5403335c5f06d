"""The digit judges: a small CNN per embedded digit set, trained on that set's training split.

A judge is the measuring instrument for generated digits: its predictions give label, category and class
coverage scores, and its penultimate features are the space where Fréchet distance and diversity are
measured. It is trained with random shifts and small rotations so it judges shape, not position.
Each digit set has its own judge (`checkpoints/judge-<dataset>.safetensors`): a judge of the blocky 8×8
digits reads real MNIST strokes poorly and the other way round, so a checkpoint is measured by the judge
of the data it learned from.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, safe_open
from torch import nn

from gan_core.checkpoints import check_state_dict, write_safetensors
from gan_core.data.catalogue import load_dataset
from gan_core.data.types import to_unit_range
from gan_core.errors import CheckpointError

JUDGE_FORMAT = "gan-studio-judge/1"
JUDGE_IMAGE_SIZE = 32
JUDGE_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
JUDGED_DATASETS = ("mnist_5k", "digits")  # the digit sets a judge is shipped for, the default first


def judge_path_for(dataset: str) -> Path:
    """The shipped judge of `dataset`; raises when no judge measures that data set."""
    if dataset not in JUDGED_DATASETS:
        raise CheckpointError(f"the metrics judge digits ({', '.join(JUDGED_DATASETS)}); there is no judge for "
                              f"{dataset!r}")
    return JUDGE_DIR / f"judge-{dataset}.safetensors"


class JudgeNet(nn.Module):
    """32×32 grayscale digit → 10 class logits; `features` is the 128-d embedding used by the metrics."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(True),
            nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(True), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(True),
            nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(True), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 8 * 8, 128), nn.ReLU(True),
        )
        self.classifier = nn.Linear(128, 10)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(_to_judge_size(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(images))


def _to_judge_size(images: torch.Tensor) -> torch.Tensor:
    if images.shape[1] == 3:
        images = images.mean(1, keepdim=True)
    if images.shape[-1] != JUDGE_IMAGE_SIZE:
        images = F.interpolate(images, size=(JUDGE_IMAGE_SIZE, JUDGE_IMAGE_SIZE), mode="bilinear",
                               antialias=True, align_corners=False)
    return images


def _augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random shifts of up to 3 px and rotations of up to 12°, as one batched affine warp."""
    n = images.shape[0]
    angle = (torch.rand(n, generator=generator) * 2 - 1) * (12 * torch.pi / 180)
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * (3 / (JUDGE_IMAGE_SIZE / 2))
    scale = 1 + (torch.rand(n, generator=generator) * 2 - 1) * 0.1
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, padding_mode="border", align_corners=False)


@dataclass
class Judge:
    """A trained judge with its held-out accuracy."""

    net: JudgeNet
    held_out_accuracy: float
    dataset: str = JUDGED_DATASETS[0]

    @torch.inference_mode()
    def predict(self, images: torch.Tensor, batch: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
        """(labels, features) for images in [-1, 1]."""
        labels, features = [], []
        for start in range(0, images.shape[0], batch):
            feats = self.net.features(images[start:start + batch].float())
            features.append(feats)
            labels.append(self.net.classifier(feats).argmax(1))
        return torch.cat(labels), torch.cat(features)


def train_judge(epochs: int = 40, seed: int = 0, batch_size: int = 64, device: str = "cpu",
                dataset: str = JUDGED_DATASETS[0]) -> Judge:
    """Train on `dataset`'s training split; the held-out accuracy is measured on its held-out split."""
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    data = load_dataset(dataset, JUDGE_IMAGE_SIZE)
    images, labels = to_unit_range(data.images), data.labels
    net = JudgeNet().to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = epochs * ((len(images) + batch_size - 1) // batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps)
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=rng)
        for start in range(0, len(images), batch_size):
            index = order[start:start + batch_size]
            logits = net(_augment(images[index], rng).to(device))
            loss = F.cross_entropy(logits, labels[index].to(device), label_smoothing=0.05)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    net.cpu().eval()
    judge = Judge(net, 0.0, dataset)
    predicted, _ = judge.predict(to_unit_range(data.test_images))
    judge.held_out_accuracy = float((predicted == data.test_labels).float().mean())
    return judge


def save_judge(judge: Judge, path: Path, train_seconds: float) -> None:
    metadata = {"format": JUDGE_FORMAT, "held_out_accuracy": json.dumps(judge.held_out_accuracy),
                "train_seconds": json.dumps(round(train_seconds, 1)), "dataset": judge.dataset}
    tensors = {k: v.contiguous() for k, v in judge.net.state_dict().items()}
    write_safetensors(Path(path), tensors, metadata)


def load_judge(path: Path | None = None, dataset: str = JUDGED_DATASETS[0]) -> Judge:
    """The judge at `path`, else the shipped judge of `dataset`."""
    path = Path(path or judge_path_for(dataset))
    if not path.is_file():
        raise CheckpointError(f"judge classifier {path} is missing; train it with `python -m gan_core train-judge "
                              f"--dataset {dataset} --out {path}`")
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    if metadata.get("format") != JUDGE_FORMAT:
        raise CheckpointError(f"{path.name} is not a GAN Studio judge classifier")
    net = JudgeNet()
    state = load_file(str(path))
    check_state_dict(net, state, f"judge {path.name}")
    net.load_state_dict(state)
    net.eval()
    # Judges from before the dataset field were all trained on the 8×8 digits.
    return Judge(net, float(json.loads(metadata["held_out_accuracy"])), metadata.get("dataset", "digits"))


def train_and_save_judge(path: Path, epochs: int, seed: int, device: str = "cpu",
                         dataset: str = JUDGED_DATASETS[0]) -> Judge:
    started = time.perf_counter()
    judge = train_judge(epochs=epochs, seed=seed, device=device, dataset=dataset)
    save_judge(judge, path, time.perf_counter() - started)
    return judge
