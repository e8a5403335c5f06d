"""Read generators trained with the official CycleGAN/pix2pix project into our networks.

Those files are bare `state_dict`s: the architecture is not stored, so it is read back from the key
names and tensor shapes. They are pickles, so they are only ever opened with
`torch.load(weights_only=True)`, which refuses anything but tensors and plain containers: a file
that tries to run code is rejected before any of it runs. Translating pictures with them is
`gan_core.translation`'s job, as for our own translators.
"""

from __future__ import annotations

import io
import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

import torch
from torch import nn

from gan_core.checkpoints import check_state_dict
from gan_core.errors import CheckpointError
from gan_core.nets.image_to_image import GeneratorArch, Norm

# Statistics old PyTorch versions saved for InstanceNorm layers that never use them.
STALE_NORM_SUFFIXES = (".running_mean", ".running_var", ".num_batches_tracked")


def read_official_state_dict(
    source: str | Path | bytes | BinaryIO, name: str = "checkpoint",
) -> dict[str, torch.Tensor]:
    """The tensors of a `.pth` state_dict, read without running any code the file may carry."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise CheckpointError(f"checkpoint {path} does not exist")
        name = path.name
    elif isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    try:
        loaded = torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        refused = re.search(r"GLOBAL (\S+)", str(error))
        if refused is None:
            raise CheckpointError(f"{name} is corrupt or not a PyTorch .pth weight file") from None
        raise CheckpointError(
            f"{name} cannot be read safely: it refers to Python code ({refused.group(1)}) that loading would run; "
            "only plain weight files saved with torch.save(net.state_dict()) can be imported"
        ) from None
    except Exception as error:  # corrupt or foreign files fail in many ways; none of them ran any code
        raise CheckpointError(
            f"{name} cannot be read as a PyTorch state_dict ({type(error).__name__}): it is corrupt or not a "
            ".pth weight file"
        ) from None
    if not isinstance(loaded, Mapping) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in loaded.items()
    ):
        raise CheckpointError(
            f"{name} holds a {type(loaded).__name__}, not a state_dict of named tensors; "
            "save the generator with torch.save(net.state_dict(), path)"
        )
    return dict(loaded)


def strip_module_prefix(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop the `module.` prefix nn.DataParallel adds, so multi-GPU checkpoints load too."""
    return {key.removeprefix("module."): value for key, value in state.items()}


def _unet_level_prefix(depth: int) -> str:
    """Key prefix of U-Net level `depth` (1 = outermost): model, model.model.1, model.model.1.model.3, ..."""
    return "model" if depth == 1 else "model.model.1" + ".model.3" * (depth - 2)


def _has_batch_norm(state: dict[str, torch.Tensor]) -> bool:
    """Batch norm is the only official norm with 1-d `weight`s (convolution weights are 4-d)."""
    return any(key.endswith(".weight") and value.ndim == 1 for key, value in state.items())


def _infer_norm(state: dict[str, torch.Tensor], first_normed_conv: str) -> Norm:
    if _has_batch_norm(state):
        return "batch"
    return "instance" if f"{first_normed_conv}.bias" in state else "none"


def _weight(state: dict[str, torch.Tensor], key: str, name: str) -> torch.Tensor:
    value = state.get(key)
    if value is None or value.ndim != 4:
        raise CheckpointError(f"{name} has no 4-d convolution weight '{key}'; it is not an official generator")
    return value


def _infer_resnet(state: dict[str, torch.Tensor], name: str) -> GeneratorArch:
    stem = _weight(state, "model.1.weight", name)
    blocks = {int(match.group(1)) for key in state if (match := re.match(r"model\.(\d+)\.conv_block\.", key))}
    last_conv = max(
        (int(match.group(1)) for key in state if (match := re.fullmatch(r"model\.(\d+)\.weight", key))), default=1,
    )
    return GeneratorArch(
        kind="resnet",
        ngf=stem.shape[0],
        norm=_infer_norm(state, "model.4"),
        input_nc=stem.shape[1],
        output_nc=_weight(state, f"model.{last_conv}.weight", name).shape[0],
        n_blocks=len(blocks),
        # Dropout sits between the block's two convolutions, moving the second from index 5 to 6.
        dropout=any(
            re.fullmatch(r"model\.\d+\.conv_block\.6\.weight", key) and value.ndim == 4 for key, value in state.items()
        ),
    )


def _infer_unet(state: dict[str, torch.Tensor], name: str) -> GeneratorArch:
    stem = _weight(state, "model.model.0.weight", name)
    num_downs = 1
    while any(key.startswith(_unet_level_prefix(num_downs + 1) + ".model.") for key in state):
        num_downs += 1
    return GeneratorArch(
        kind="unet",
        ngf=stem.shape[0],
        norm=_infer_norm(state, "model.model.1.model.1"),
        input_nc=stem.shape[1],
        output_nc=_weight(state, "model.model.3.weight", name).shape[1],  # transposed conv: (in, out, k, k)
        num_downs=num_downs,
    )


def infer_official_arch(state: dict[str, torch.Tensor], name: str = "checkpoint") -> GeneratorArch:
    """Read the architecture of an official generator from its (prefix-free) keys and shapes."""
    if any(".conv_block." in key for key in state):
        return _infer_resnet(state, name)
    if "model.model.0.weight" in state:
        return _infer_unet(state, name)
    sample = sorted(state)[:3]
    raise CheckpointError(
        f"{name} is not an official CycleGAN/pix2pix generator: expected keys like 'model.10.conv_block.1.weight' "
        f"(ResNet) or 'model.model.0.weight' (U-Net), found {sample}"
    )


def drop_stale_norm_statistics(network: nn.Module, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Remove running statistics saved for InstanceNorm layers that keep none (older PyTorch wrote them)."""
    instance_norms = {name for name, module in network.named_modules() if isinstance(module, nn.InstanceNorm2d)}

    def is_stale(key: str) -> bool:
        owner, _, _ = key.rpartition(".")
        return key.endswith(STALE_NORM_SUFFIXES) and owner in instance_norms

    return {key: value for key, value in state.items() if not is_stale(key)}


def load_official_generator(source: str | Path | bytes | BinaryIO) -> tuple[nn.Module, GeneratorArch]:
    """Build the generator an official `.pth` file describes and load its weights strictly.

    Returns the network in eval mode on the CPU and what was inferred about it. Raises
    CheckpointError for unreadable, unsafe or foreign files, naming what does not match.
    """
    name = Path(source).name if isinstance(source, (str, Path)) else "uploaded checkpoint"
    state = strip_module_prefix(read_official_state_dict(source, name))
    arch = infer_official_arch(state, name)
    try:
        network = arch.build()
    except ValueError as error:
        raise CheckpointError(f"{name} describes an impossible {arch.kind} generator: {error}") from None
    state = drop_stale_norm_statistics(network, state)
    check_state_dict(network, state, f"{name} (read as {arch.describe()})")
    network.load_state_dict(state, strict=True)
    return network.eval(), arch
