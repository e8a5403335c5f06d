"""Checkpoints: one safetensors file is enough to sample; a second file holds the resume state.

- `generator.safetensors`: the generator's weights (the EMA copy when enabled) with the variant, the
  full config, the dataset's description (name, image shape and class names for images; whatever
  else rebuilds the network for other kinds of data, e.g. users and items, or a vocabulary), the
  latent layout, the step and the metrics in its metadata. Reading it never runs code.
- `resume.pt`: every network, every optimizer, the RNG states and the step, read back with
  `torch.load(weights_only=True)` so a foreign file cannot execute anything.
Both are written to a temporary file that is then renamed, so a crash or a full disk leaves the
previous checkpoint intact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save
from torch import nn

from gan_core.atomic import atomic_write
from gan_core.config import TrainConfig, saved_config_from_dict
from gan_core.data.types import DatasetInfo
from gan_core.errors import CheckpointError, GanStudioError
from gan_core.latent import LatentLayout

FORMAT = "gan-studio/1"
GENERATOR_FILE = "generator.safetensors"
RESUME_FILE = "resume.pt"


@dataclass
class LoadedGenerator:
    """A generator ready to sample, with everything its checkpoint says about it."""

    path: Path
    variant: str
    config: TrainConfig
    generator: nn.Module
    layout: LatentLayout
    dataset: DatasetInfo
    step: int
    metrics: dict[str, Any]


def save_generator(
    path: Path, generator: nn.Module, config: TrainConfig, layout: LatentLayout | None,
    dataset: DatasetInfo, step: int, metrics: dict[str, Any] | None = None,
) -> None:
    metadata = {
        "format": FORMAT,
        "variant": config.variant,
        "config": config.to_json(),
        "dataset": dataset.name,
        "image_shape": json.dumps(list(dataset.image_shape) if dataset.image_shape is not None else None),
        "class_names": json.dumps(dataset.class_names),
        "data": json.dumps(dataset.details, ensure_ascii=False),
        "latent": json.dumps(layout.to_dict() if layout else None),
        "step": str(step),
        "metrics": json.dumps(metrics or {}),
    }
    tensors = {key: value.detach().cpu().contiguous() for key, value in generator.state_dict().items()}
    write_safetensors(path, tensors, metadata)


def write_safetensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """A .safetensors file written through `atomic_write`.

    The bytes are serialised in memory and written by us, because `safetensors.torch.save_file` makes
    its own randomly named temporary beside the target, which a killed process would leave behind
    where `RunFiles.remove_temporaries` does not look."""
    data = save(tensors, metadata=metadata)
    atomic_write(path, lambda target: target.write_bytes(data))


def read_metadata(path: Path) -> dict[str, str]:
    """The metadata of a GAN Studio checkpoint, or a CheckpointError saying what the file is not."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(
            f"{path.name} is not a safetensors file ({error}); GAN Studio checkpoints are .safetensors files "
            "(official CycleGAN/pix2pix .pth generators can be imported instead)"
        ) from None
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path.name} is a safetensors file but not a GAN Studio checkpoint (no '{FORMAT}' metadata)")
    return metadata


def _rebuild_config(metadata: dict[str, str], path: Path) -> TrainConfig:
    try:
        return saved_config_from_dict(json.loads(metadata["config"]))
    except (KeyError, json.JSONDecodeError, GanStudioError) as error:
        raise CheckpointError(f"{path.name} has an unreadable config in its metadata: {error}") from None


def check_state_dict(module: nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """Raise a CheckpointError naming the first missing, unexpected or mis-shaped keys."""
    expected = {key: tuple(value.shape) for key, value in module.state_dict().items()}
    found = {key: tuple(value.shape) for key, value in state.items()}
    missing = [key for key in expected if key not in found]
    unexpected = [key for key in found if key not in expected]
    mismatched = [f"{key} {found[key]} vs {expected[key]}" for key in expected if key in found and found[key] != expected[key]]
    problems = []
    if missing:
        problems.append(f"missing keys {missing[:3]}")
    if unexpected:
        problems.append(f"unexpected keys {unexpected[:3]}")
    if mismatched:
        problems.append(f"mismatched shapes {mismatched[:3]}")
    if problems:
        raise CheckpointError(f"{what} does not match the architecture: " + "; ".join(problems))


def _dataset_info(metadata: dict[str, str], path: Path) -> DatasetInfo:
    """The dataset description in a checkpoint's metadata (checkpoints before `data` existed hold images only)."""
    try:
        shape = json.loads(metadata.get("image_shape", "null"))
        return DatasetInfo(metadata.get("dataset", "?"), tuple(shape) if shape is not None else None,
                           json.loads(metadata.get("class_names", "[]")), json.loads(metadata.get("data", "{}")))
    except (json.JSONDecodeError, TypeError) as error:
        raise CheckpointError(f"{path.name} has an unreadable dataset description in its metadata: {error}") from None


def load_generator(path: Path, device: torch.device | str = "cpu") -> LoadedGenerator:
    """Rebuild the generator described by a checkpoint's metadata and load its weights."""
    from gan_core.registry import get_variant

    path = Path(path)
    metadata = read_metadata(path)
    config = _rebuild_config(metadata, path)
    spec = get_variant(config.variant)
    info = _dataset_info(metadata, path)
    latent = json.loads(metadata.get("latent", "null"))
    with torch.random.fork_rng(devices=[]):  # the layers' initial draws must not move the caller's random stream
        generator = spec.model_class.generator_from_info(config, info)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path.name} cannot be read ({error}); the file is damaged") from None
    check_state_dict(generator, state, f"checkpoint {path.name} ({config.variant})")
    generator.load_state_dict(state)
    generator.to(device).eval()
    return LoadedGenerator(
        path=path,
        variant=config.variant,
        config=config,
        generator=generator,
        layout=LatentLayout.from_dict(latent) if latent else None,
        dataset=info,
        step=int(metadata.get("step", 0)),
        metrics=json.loads(metadata.get("metrics", "{}")),
    )


def save_resume_state(path: Path, state: dict[str, Any]) -> None:
    atomic_write(path, lambda target: torch.save(state, target))


def load_resume_state(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no resume state at {path}: the run has no checkpoint yet; start it again instead")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling errors come as many types; none of them may run code
        raise CheckpointError(f"resume state {path.name} cannot be read safely: {type(error).__name__}") from None
