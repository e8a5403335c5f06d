"""Import generators trained with the official CycleGAN/pix2pix project, and translate one image.

Those files are bare `state_dict`s: the architecture is not stored, so it is read back from the key
names and tensor shapes. They are pickles, so they are only ever opened with
`torch.load(weights_only=True)`, which refuses anything but tensors and plain containers: a file
that tries to run code is rejected before any of it runs.
"""

from __future__ import annotations

import io
import pickle
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from gan_core.checkpoints import check_state_dict
from gan_core.data.types import from_unit_range, to_unit_range
from gan_core.errors import CheckpointError, ConfigError, ImageDecodeError
from gan_core.nets.image_to_image import Norm, ResnetGenerator, UnetGenerator
from gan_core.uploads import decode_image

# Statistics old PyTorch versions saved for InstanceNorm layers that never use them.
STALE_NORM_SUFFIXES = (".running_mean", ".running_var", ".num_batches_tracked")
# Larger images would need gigabytes of activations on a CPU; ask for a smaller one instead.
MAX_TRANSLATE_PIXELS = 4096 * 4096
IMAGE_MODES = {1: "L", 3: "RGB"}


@dataclass(frozen=True)
class OfficialArch:
    """The official generator architecture read back from a state_dict.

    Dropout owns no weights; in the U-Net it also leaves the keys unchanged, so it cannot be seen
    there and is taken as off (it only matters in train mode). In the ResNet it shifts a key index
    and is read back.
    """

    kind: Literal["resnet", "unet"]
    ngf: int
    norm: Norm
    input_nc: int
    output_nc: int
    n_blocks: int | None = None
    num_downs: int | None = None
    dropout: bool = False

    def build(self) -> nn.Module:
        """A freshly initialised network of this architecture."""
        if self.kind == "resnet":
            return ResnetGenerator(self.input_nc, self.output_nc, self.ngf, self.norm, self.dropout, self.n_blocks)
        return UnetGenerator(self.input_nc, self.output_nc, self.num_downs, self.ngf, self.norm, self.dropout)

    @property
    def size_multiple(self) -> int:
        """Height and width must be multiples of this for the output to keep the input's size."""
        return 4 if self.kind == "resnet" else 2**self.num_downs

    def describe(self) -> str:
        """One line for people, e.g. 'ResNet generator, 9 blocks, ngf 64, instance norm, 3→3 channels'."""
        if self.kind == "resnet":
            body = f"ResNet generator, {self.n_blocks} blocks"
        else:
            body = f"U-Net generator, {self.num_downs} downsamplings"
        dropout = ", dropout" if self.dropout else ""
        return f"{body}, ngf {self.ngf}, {self.norm} norm{dropout}, {self.input_nc}→{self.output_nc} channels"


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


def _infer_resnet(state: dict[str, torch.Tensor], name: str) -> OfficialArch:
    stem = _weight(state, "model.1.weight", name)
    blocks = {int(match.group(1)) for key in state if (match := re.match(r"model\.(\d+)\.conv_block\.", key))}
    last_conv = max(
        (int(match.group(1)) for key in state if (match := re.fullmatch(r"model\.(\d+)\.weight", key))), default=1,
    )
    return OfficialArch(
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


def _infer_unet(state: dict[str, torch.Tensor], name: str) -> OfficialArch:
    stem = _weight(state, "model.model.0.weight", name)
    num_downs = 1
    while any(key.startswith(_unet_level_prefix(num_downs + 1) + ".model.") for key in state):
        num_downs += 1
    return OfficialArch(
        kind="unet",
        ngf=stem.shape[0],
        norm=_infer_norm(state, "model.model.1.model.1"),
        input_nc=stem.shape[1],
        output_nc=_weight(state, "model.model.3.weight", name).shape[1],  # transposed conv: (in, out, k, k)
        num_downs=num_downs,
    )


def infer_official_arch(state: dict[str, torch.Tensor], name: str = "checkpoint") -> OfficialArch:
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


def load_official_generator(source: str | Path | bytes | BinaryIO) -> tuple[nn.Module, OfficialArch]:
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


def read_image(path: str | Path) -> Image.Image:
    """Decode an image file with the same checks as an upload (EXIF, modes, size limits), or raise
    ImageDecodeError saying why it cannot be used."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ImageDecodeError(f"input image {path} does not exist") from None
    except OSError as error:
        raise ImageDecodeError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return decode_image(data, mode="auto")
    except ImageDecodeError as error:
        raise ImageDecodeError(f"cannot decode {path}: {error}") from None


def aligned_half(picture: Image.Image, direction: Literal["AtoB", "BtoA"]) -> Image.Image:
    """The input half of a pix2pix aligned pair (A left, B right): A for AtoB, B for BtoA."""
    if direction not in ("AtoB", "BtoA"):
        raise ConfigError(f"direction must be AtoB or BtoA; got {direction!r}")
    half = picture.width // 2
    if half < 1:
        raise ImageDecodeError(f"a {picture.width}-pixel-wide image cannot be split into an A|B pair")
    box = (0, 0, half, picture.height) if direction == "AtoB" else (half, 0, 2 * half, picture.height)
    return picture.crop(box)


@contextmanager
def batch_statistics(network: nn.Module) -> Iterator[None]:
    """Run batch norm on the batch's own statistics, leaving the stored running statistics untouched.

    The official test script runs pix2pix's U-Net this way unless `--eval` is given, so released
    weights were judged with it; restoring the buffers keeps repeated translations independent.
    """
    norms = [module for module in network.modules() if isinstance(module, nn.modules.batchnorm._BatchNorm)]
    saved = [{name: buffer.clone() for name, buffer in norm.named_buffers()} for norm in norms]
    modes = [norm.training for norm in norms]
    try:
        for norm in norms:
            norm.train()
        yield
    finally:
        for norm, buffers, mode in zip(norms, saved, modes, strict=True):
            for name, value in buffers.items():
                getattr(norm, name).copy_(value)
            norm.train(mode)


def _uses_batch_statistics(arch: OfficialArch) -> bool:
    """Only the U-Net with batch norm is translated in train mode (see `batch_statistics`)."""
    return arch.kind == "unet" and arch.norm == "batch"


def _to_size_multiple(images: torch.Tensor, arch: OfficialArch) -> torch.Tensor:
    """Make height and width multiples of `arch.size_multiple`.

    The ResNet needs at most 3 extra pixels, so it is reflect-padded (exact at the original size).
    The U-Net may need up to 2^num_downs − 1, and a wide border would distort its batch
    statistics, so it is resized to the nearest multiple instead (the official script resizes too).
    """
    multiple, (height, width) = arch.size_multiple, images.shape[-2:]
    if arch.kind == "resnet":
        pad_h, pad_w = -height % multiple, -width % multiple
        mode = "reflect" if pad_h < height and pad_w < width else "replicate"
        return F.pad(images, (0, pad_w, 0, pad_h), mode=mode)
    size = [max(multiple, round(side / multiple) * multiple) for side in (height, width)]
    return F.interpolate(images, size=size, mode="bicubic", align_corners=False).clamp(-1, 1)


def translate_image(generator: nn.Module, arch: OfficialArch, picture: Image.Image) -> Image.Image:
    """Translate one picture at its own size with an imported official generator.

    Pixels are scaled to [-1, 1] as in training; the output has the input's width and height.
    """
    if arch.input_nc not in IMAGE_MODES or arch.output_nc not in IMAGE_MODES:
        raise CheckpointError(f"cannot translate pictures with a {arch.input_nc}→{arch.output_nc} channel generator")
    if picture.width * picture.height > MAX_TRANSLATE_PIXELS:
        raise ImageDecodeError(f"{picture.width}×{picture.height} is too large to translate; resize it to at most "
                               "4096×4096 pixels")
    pixels = np.asarray(picture.convert(IMAGE_MODES[arch.input_nc]), dtype=np.uint8).reshape(
        picture.height, picture.width, arch.input_nc)
    images = to_unit_range(torch.from_numpy(pixels.copy()).permute(2, 0, 1).unsqueeze(0))
    generator.eval()
    with torch.no_grad():
        device = next(generator.parameters()).device
        inputs = _to_size_multiple(images, arch).to(device)
        if _uses_batch_statistics(arch):
            with batch_statistics(generator):
                outputs = generator(inputs).cpu()
        else:
            outputs = generator(inputs).cpu()
    if arch.kind == "resnet":
        outputs = outputs[..., : picture.height, : picture.width]
    else:
        outputs = F.interpolate(outputs, size=(picture.height, picture.width), mode="bicubic", align_corners=False)
    levels = from_unit_range(outputs[0]).mul_(255).round_().to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(levels.squeeze(2) if arch.output_nc == 1 else levels)  # uint8: mode L or RGB
