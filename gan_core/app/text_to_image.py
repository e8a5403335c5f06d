"""The text-to-image page's results: a sentence read by a checkpoint, its images at every stage for a few noise
seeds, and what each generated digit measures, as plain data and PNG bytes a page can show and cache.

The reading and the drawing are in `gan_core.text_to_image`; this module only lays the results out.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gan_core.app.models import ModelChoice, available_models
from gan_core.checkpoints import LoadedGenerator
from gan_core.grids import png_bytes, to_pil, with_labels
from gan_core.text.attributes import ATTRIBUTES
from gan_core.text_to_image import draw_stages, measure_digits, stage_names, understand

TEXT_TO_IMAGE_PAGE = "/text-to-image"
SEEDS = tuple(range(8))
SHOWN_SIDE = 32  # every stage is shown at the final side (Stage-I enlarged, nearest neighbour) so they line up


def text_to_image_models() -> list[ModelChoice]:
    """Generators whose variant names this page as where it is shown best (text-to-image ones)."""
    return available_models(lambda spec: spec.page == TEXT_TO_IMAGE_PAGE)


@dataclass(frozen=True)
class CaptionDrawing:
    """Everything the page shows for one sentence, in plain data."""

    words: list[tuple[str, bool]]  # each word in order, and whether the model knows it
    warnings: list[str]
    digit: int
    digit_probability: float
    attributes: list[tuple[str, str, float, bool]]  # name, word read (or "not said"), probability, said
    stages: list[str]
    stage_rows: list[bytes]  # one PNG row of the seeds' images per stage
    measured: list[tuple[int, tuple[str, ...]]]  # the last stage's images: judge's digit and measured words
    download: bytes  # every stage's row, labelled, as one PNG

    def agreement(self) -> dict[str, float]:
        """Share of the seeds whose measured digit and each said attribute match the caption's reading."""
        shares = {"digit": sum(digit == self.digit for digit, _ in self.measured) / len(self.measured)}
        for index, (name, word, _, said) in enumerate(self.attributes):
            if said:
                shares[name] = sum(words[index] == word for _, words in self.measured) / len(self.measured)
        return shares


def draw_caption(model: LoadedGenerator, text: str, judge, seeds: tuple[int, ...] = SEEDS) -> CaptionDrawing:
    """Read `text` with `model`, draw every stage for `seeds`, and measure the last stage's digits."""
    understanding = understand(model, text)
    images = draw_stages(model, understanding.tokens, list(seeds))
    shown = [F.interpolate(stage, size=(SHOWN_SIDE, SHOWN_SIDE), mode="nearest") for stage in images]
    rows = [png_bytes(to_pil(stage, columns=len(seeds), scale=3)) for stage in shown]
    names = list(stage_names(model)) or ["samples"]
    labelled = with_labels(to_pil(torch.cat(shown), columns=len(seeds), scale=3), names,
                           [f"seed {seed}" for seed in seeds])
    measured = [(digit.digit, digit.words) for digit in measure_digits(images[-1], judge)]
    return CaptionDrawing(
        words=list(zip(understanding.reading.words, understanding.reading.known)),
        warnings=understanding.warnings,
        digit=understanding.digit,
        digit_probability=understanding.digit_probability,
        attributes=[(a.name, a.word, a.probability, a.said) for a in understanding.attributes],
        stages=names,
        stage_rows=rows,
        measured=measured,
        download=png_bytes(labelled),
    )


def attribute_words() -> dict[str, tuple[str, ...]]:
    return {attribute.name: attribute.bins for attribute in ATTRIBUTES}
