"""Translate one picture with a pix2pix/CycleGAN generator: a GAN Studio checkpoint or an official .pth.

Our translators are built from the official networks, so each one is described by a `GeneratorArch` (ours
from their config, an official file's read from its keys by `gan_core.official`), and every picture goes
through `translate_image`: one place decides the pixel range, the size rounding, pix2pix's batch statistics
and its optional test-time dropout for both kinds of file.

pix2pix's dropout is off by default (`translate(..., dropout_seed=None)`): the paper keeps it on at test time
as its only noise, but finds that noise has little effect, and a user who translates one picture expects the
same picture back each time; the Translate page and the CLI offer it, with a seed.

Large pictures are shrunk first, never tiled: the longest side is brought down to `MAX_SIDE` pixels
(aspect ratio kept), which bounds memory and time on a 2-core CPU; tiles would show seams where
instance and batch norm see different statistics.

A colouriser trained here on an embedded task (pix2pix on gray2color) computes its colour at the scale of
its training crops and puts it on the picture's own full-size lightness (`embedded_tasks.working_side`).
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from gan_core.checkpoints import load_generator
from gan_core.data.embedded_tasks import example_photo, expectation, input_filter, synthesised_note, working_side
from gan_core.data.types import from_unit_range, to_unit_range
from gan_core.errors import CheckpointError, ConfigError, ImageDecodeError
from gan_core.nets.colorizer import LightnessKeepingColorizer, with_lightness_of
from gan_core.nets.image_to_image import GeneratorArch, batch_statistics, has_dropout, sampling_dropout
from gan_core.official import load_official_generator
from gan_core.registry import get_variant
from gan_core.uploads import decode_image, fit_within

MAX_SIDE = 512
"""Pictures whose longest side exceeds this are shrunk to it before translation."""
MAX_TRANSLATE_PIXELS = 4096 * 4096
"""Larger pictures would need gigabytes of activations on a CPU; `translate_image` asks for a smaller one."""
IMAGE_MODES = {1: "L", 3: "RGB"}

Direction = Literal["AtoB", "BtoA"]


@dataclass
class Translator:
    """One or two generators ready to translate, and what a page should say about them."""

    title: str
    arch: GeneratorArch
    generators: dict[str, nn.Module]  # "AtoB" (always) and "BtoA" (CycleGAN checkpoints)
    dataset: str = ""
    note: str = ""  # what was synthesised in the training data, if anything
    expectation: str = ""  # what the model can and cannot do with a new picture, if its task says
    colour_side: int | None = None  # a colouriser's working size (longest side), if it has one; see `translate`
    training_side: int | None = None  # the side of its training crops, where known (ours); official files do not say

    @property
    def directions(self) -> list[str]:
        return list(self.generators)

    @property
    def has_cycle(self) -> bool:
        return len(self.generators) == 2

    @property
    def has_dropout(self) -> bool:
        """Whether test-time dropout (pix2pix's noise) can be switched on."""
        return has_dropout(self.generators["AtoB"])


@dataclass
class Translation:
    """The (possibly shrunk) input, its translation and, for CycleGAN, the way back."""

    source: Image.Image
    output: Image.Image
    reconstruction: Image.Image | None
    shrunk_from: tuple[int, int] | None  # original width and height when the input was shrunk
    prepared: str = ""  # how the network's input was derived from the picture, if it was


def load_translator(path: str | Path) -> Translator:
    """A GAN Studio pix2pix or CycleGAN checkpoint (.safetensors), on the CPU."""
    loaded = load_generator(Path(path))
    if not get_variant(loaded.variant).image_to_image:
        raise CheckpointError(f"{Path(path).name} is a {loaded.variant} generator: it samples noise, it does not "
                              "translate pictures; choose a pix2pix or CycleGAN checkpoint")
    spec = get_variant(loaded.variant)
    network = loaded.generator
    if isinstance(network, nn.ModuleDict):
        generators = {"AtoB": network["a_to_b"], "BtoA": network["b_to_a"]}
    else:
        generators = {"AtoB": network}
    title = f"{spec.title} · {loaded.dataset.name} · step {loaded.step}"
    colour_side = None
    if isinstance(network, LightnessKeepingColorizer):
        colour_side = working_side(loaded.dataset.name, loaded.config.image_size)
    arch = spec.model_class.generator_arch(loaded.config, loaded.dataset.image_shape)
    return Translator(title, arch, generators, loaded.dataset.name,
                      synthesised_note(loaded.dataset.name), expectation(loaded.dataset.name), colour_side,
                      loaded.config.image_size)


def load_official_translator(source: str | Path | bytes | BinaryIO, name: str = "official generator") -> Translator:
    """An official CycleGAN/pix2pix `.pth` generator (one direction: the one it was trained for).

    A 1→2 channel generator is the official colorization model (Lab L* in, a*, b* out): it is wrapped in
    the same `LightnessKeepingColorizer` as ours, so a colour or grey picture comes back coloured.
    """
    network, arch = load_official_generator(source)
    title = f"{name} ({arch.describe()})"
    if (arch.input_nc, arch.output_nc) == (1, 2):
        network = LightnessKeepingColorizer(network).eval()
        title = f"{name} (colorization: {arch.describe()}, lightness L* → colour a*, b*)"
        arch = dataclasses.replace(arch, input_nc=3, output_nc=3)
    return Translator(title, arch, {"AtoB": network})


def translate(translator: Translator, picture: Image.Image, direction: Direction = "AtoB",
              max_side: int = MAX_SIDE, dropout_seed: int | None = None) -> Translation:
    """Translate `picture` in `direction`; CycleGAN checkpoints also map the result back.

    `dropout_seed` keeps a pix2pix generator's dropout on, drawn from that seed (see the module docstring).

    For models trained on an embedded task the input is derived from the picture the way the
    training inputs were (a pencil sketch for CycleGAN's photo2sketch B→A), so any photo is a sensible upload.
    """
    if direction not in translator.generators:
        raise ConfigError(f"direction must be one of {', '.join(translator.directions)}; got {direction!r}")
    source = fit_within(picture.convert("RGB"), max_side)
    shrunk_from = picture.size if source.size != picture.size else None
    prepared = ""
    derive = input_filter(translator.dataset, direction)
    if derive is not None:
        make_input, prepared = derive
        source = Image.fromarray(make_input(np.asarray(source)))
    with torch.no_grad():
        if translator.colour_side and max(source.size) > translator.colour_side:
            output = _coloured_at(translator, source, translator.colour_side, dropout_seed)
            prepared = "; ".join(filter(None, [prepared, (
                f"its colour was computed at {translator.colour_side} px, the scale of the training crops, and "
                "enlarged; the lightness is your picture's own, at the size it was translated")]))
        else:
            output = translate_image(translator.generators[direction], translator.arch, source, dropout_seed)
        reconstruction = None
        if translator.has_cycle:
            back = "BtoA" if direction == "AtoB" else "AtoB"
            reconstruction = translate_image(translator.generators[back], translator.arch, output.convert("RGB"))
    return Translation(source, output, reconstruction, shrunk_from, prepared)


def too_small(translator: Translator, picture: Image.Image) -> bool:
    """Whether `picture` is much smaller than the crops the translator learned from: it will draw noise, not a
    translation (an 8-px picture through a 64-px model), and a page should say so."""
    return translator.training_side is not None and max(picture.size) < translator.training_side / 2


def _coloured_at(translator: Translator, source: Image.Image, side: int, dropout_seed: int | None) -> Image.Image:
    """Colour `source` at `side` px (longest side) and put that colour on its full-size lightness.

    A colouriser run on a picture much larger than its training crops sees every texture magnified and
    paints patches the size of a texture (on the 451-px held-out cat: green and blue fur; BENCHMARKS.md).
    """
    small = translate_image(translator.generators["AtoB"], translator.arch, fit_within(source, side), dropout_seed)
    as_tensor = [torch.from_numpy(np.asarray(image, dtype=np.float32) / 255).permute(2, 0, 1)[None]
                 for image in (source, small)]
    rgb = with_lightness_of(*as_tensor)[0].permute(1, 2, 0).mul(255).round().to(torch.uint8).numpy()
    return Image.fromarray(rgb)


def example_picture() -> Image.Image:
    """The default picture: the held-out cat photo of the embedded tasks (never trained on)."""
    return Image.fromarray(example_photo())


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


def _uses_batch_statistics(arch: GeneratorArch) -> bool:
    """Only the U-Net with batch norm is translated in train mode (see `batch_statistics`)."""
    return arch.kind == "unet" and arch.norm == "batch"


def _to_size_multiple(images: torch.Tensor, arch: GeneratorArch) -> torch.Tensor:
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


def translate_image(generator: nn.Module, arch: GeneratorArch, picture: Image.Image,
                    dropout_seed: int | None = None) -> Image.Image:
    """Translate one picture at its own size with one generator, ours or an official one.

    Pixels are scaled to [-1, 1] as in training; the output has the input's width and height. With
    `dropout_seed` the generator's dropout stays on, drawn from that seed (pix2pix's test-time noise).
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
        with ExitStack() as modes:
            if _uses_batch_statistics(arch):
                modes.enter_context(batch_statistics(generator))
            if dropout_seed is not None:
                modes.enter_context(sampling_dropout(generator, dropout_seed))
            outputs = generator(inputs).cpu()
    if arch.kind == "resnet":
        outputs = outputs[..., : picture.height, : picture.width]
    else:
        outputs = F.interpolate(outputs, size=(picture.height, picture.width), mode="bicubic", align_corners=False)
    levels = from_unit_range(outputs[0]).mul_(255).round_().to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(levels.squeeze(2) if arch.output_nc == 1 else levels)  # uint8: mode L or RGB
