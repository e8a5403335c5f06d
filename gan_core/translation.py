"""Translate one picture with a pix2pix/CycleGAN generator: a GAN Studio checkpoint or an official .pth.

Our translators are built from the official networks, so each one is described by an `OfficialArch`
and every picture goes through `official.translate_image`: one place decides the pixel range, the
size rounding and pix2pix's batch statistics for both kinds of file.

Large pictures are shrunk first, never tiled: the longest side is brought down to `MAX_SIDE` pixels
(aspect ratio kept), which bounds memory and time on a 2-core CPU; tiles would show seams where
instance and batch norm see different statistics.

A colouriser trained here on an embedded task (pix2pix on gray2color) computes its colour at the scale of
its training crops and puts it on the picture's own full-size lightness (`embedded_tasks.working_side`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import torch
from PIL import Image
from torch import nn

from gan_core.checkpoints import load_generator
from gan_core.data.embedded_tasks import example_photo, expectation, input_filter, synthesised_note, working_side
from gan_core.errors import CheckpointError, ConfigError
from gan_core.nets.colorizer import LightnessKeepingColorizer, with_lightness_of
from gan_core.nets.image_to_image import ResnetGenerator, UnetGenerator
from gan_core.official import OfficialArch, load_official_generator, translate_image
from gan_core.registry import get_variant
from gan_core.uploads import fit_within

MAX_SIDE = 512
"""Pictures whose longest side exceeds this are shrunk to it before translation."""

Direction = Literal["AtoB", "BtoA"]


@dataclass
class Translator:
    """One or two generators ready to translate, and what a page should say about them."""

    title: str
    arch: OfficialArch
    generators: dict[str, nn.Module]  # "AtoB" (always) and "BtoA" (CycleGAN checkpoints)
    dataset: str = ""
    note: str = ""  # what was synthesised in the training data, if anything
    expectation: str = ""  # what the model can and cannot do with a new picture, if its task says
    colour_side: int | None = None  # a colouriser's working size (longest side), if it has one; see `translate`

    @property
    def directions(self) -> list[str]:
        return list(self.generators)

    @property
    def has_cycle(self) -> bool:
        return len(self.generators) == 2


@dataclass
class Translation:
    """The (possibly shrunk) input, its translation and, for CycleGAN, the way back."""

    source: Image.Image
    output: Image.Image
    reconstruction: Image.Image | None
    shrunk_from: tuple[int, int] | None  # original width and height when the input was shrunk
    prepared: str = ""  # how the network's input was derived from the picture, if it was


def describe_network(network: nn.Module) -> OfficialArch:
    """The `OfficialArch` of a ResNet or U-Net built in this project, read from the module itself.

    A colourising U-Net (`LightnessKeepingColorizer`) is described by its U-Net, with the wrapper's
    RGB-in, RGB-out interface: that is what a picture meets.
    """
    if isinstance(network, LightnessKeepingColorizer):
        return dataclasses.replace(describe_network(network.unet), input_nc=3, output_nc=3)
    convolutions = [m for m in network.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    norms = {type(m) for m in network.modules()}
    norm = "batch" if nn.BatchNorm2d in norms else "instance" if nn.InstanceNorm2d in norms else "none"
    first, last = convolutions[0], convolutions[-1]
    input_nc = first.in_channels
    output_nc = last.out_channels
    if isinstance(network, ResnetGenerator):
        blocks = sum(1 for m in network.modules() if type(m).__name__ == "ResnetBlock")
        dropout = any(isinstance(m, nn.Dropout) for m in network.modules())
        return OfficialArch("resnet", first.out_channels, norm, input_nc, output_nc, n_blocks=blocks, dropout=dropout)
    if isinstance(network, UnetGenerator):
        downs = sum(1 for m in network.modules() if isinstance(m, nn.Conv2d) and m.stride == (2, 2))
        return OfficialArch("unet", first.out_channels, norm, input_nc, output_nc, num_downs=downs)
    raise CheckpointError(f"cannot translate with a {type(network).__name__}; expected a ResNet or U-Net generator")


def load_translator(path: str | Path) -> Translator:
    """A GAN Studio pix2pix or CycleGAN checkpoint (.safetensors), on the CPU."""
    loaded = load_generator(Path(path))
    if not get_variant(loaded.variant).image_to_image:
        raise CheckpointError(f"{Path(path).name} is a {loaded.variant} generator: it samples noise, it does not "
                              "translate pictures; choose a pix2pix or CycleGAN checkpoint")
    network = loaded.generator
    if isinstance(network, nn.ModuleDict):
        generators = {"AtoB": network["a_to_b"], "BtoA": network["b_to_a"]}
    else:
        generators = {"AtoB": network}
    title = f"{get_variant(loaded.variant).title} · {loaded.dataset.name} · step {loaded.step}"
    colour_side = None
    if isinstance(network, LightnessKeepingColorizer):
        colour_side = working_side(loaded.dataset.name, loaded.config.image_size)
    return Translator(title, describe_network(generators["AtoB"]), generators, loaded.dataset.name,
                      synthesised_note(loaded.dataset.name), expectation(loaded.dataset.name), colour_side)


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
              max_side: int = MAX_SIDE) -> Translation:
    """Translate `picture` in `direction`; CycleGAN checkpoints also map the result back.

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
            output = _coloured_at(translator, source, translator.colour_side)
            prepared = "; ".join(filter(None, [prepared, (
                f"its colour was computed at {translator.colour_side} px, the scale of the training crops, and "
                "enlarged; the lightness is your picture's own, at full size")]))
        else:
            output = translate_image(translator.generators[direction], translator.arch, source)
        reconstruction = None
        if translator.has_cycle:
            back = "BtoA" if direction == "AtoB" else "AtoB"
            reconstruction = translate_image(translator.generators[back], translator.arch, output.convert("RGB"))
    return Translation(source, output, reconstruction, shrunk_from, prepared)


def _coloured_at(translator: Translator, source: Image.Image, side: int) -> Image.Image:
    """Colour `source` at `side` px (longest side) and put that colour on its full-size lightness.

    A colouriser run on a picture much larger than its training crops sees every texture magnified and
    paints patches the size of a texture (on the 451-px held-out cat: green and blue fur; BENCHMARKS.md).
    """
    small = translate_image(translator.generators["AtoB"], translator.arch, fit_within(source, side))
    as_tensor = [torch.from_numpy(np.asarray(image, dtype=np.float32) / 255).permute(2, 0, 1)[None]
                 for image in (source, small)]
    rgb = with_lightness_of(*as_tensor)[0].permute(1, 2, 0).mul(255).round().to(torch.uint8).numpy()
    return Image.fromarray(rgb)


def example_picture() -> Image.Image:
    """The default picture: the held-out cat photo of the embedded tasks (never trained on)."""
    return Image.fromarray(example_photo())
