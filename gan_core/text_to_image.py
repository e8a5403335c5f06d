"""Drawing from a sentence: how a text-to-image checkpoint reads it, its images at each stage, and what they show.

Whether a checkpoint takes captions, and which stages it draws, is a property of its generator (a `draw(latent,
tokens, stage)` method and `stage_names`) and of its metadata (a vocabulary); the CLI and the text-to-image page ask
here and never look at the variant's name. The sentence is read with the checkpoint's own vocabulary; the model's
text encoder then says what it understood (digit and attribute words, with its confidence), and the images can be
measured with the same fixed measures the captions were made from (`gan_core.text.attributes`) and read by the judge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from gan_core.checkpoints import LoadedGenerator
from gan_core.errors import ConfigError
from gan_core.text.attributes import ATTRIBUTES, measure, measure_bins
from gan_core.text.captions import DIGIT_WORDS
from gan_core.text.reading import CaptionError, Reading, Vocabulary

EXAMPLE_CAPTIONS = ("a thin 3 leaning left", "a bold seven leaning right", "thin, upright zero", "a wide 8 in bold strokes",
                    "an italic two drawn with a fine pen", "a bold 4 leaning left")
"""Captions the page offers to click (the last names a combination held out of training)."""
_DIGIT_OF_WORD = {word: digit for digit, words in enumerate(DIGIT_WORDS) for word in words}


def takes_captions(model: LoadedGenerator) -> bool:
    """Whether the checkpoint's generator draws from a sentence (it has a text encoder and a stored vocabulary)."""
    return callable(getattr(model.generator, "draw", None)) and bool(model.dataset.details.get("vocabulary"))


def stage_names(model: LoadedGenerator) -> tuple[str, ...]:
    """The stages the generator draws, coarse to fine; empty for a single-stage model."""
    return tuple(getattr(model.generator, "stage_names", ()))


def require_captions(model: LoadedGenerator) -> LoadedGenerator:
    if not takes_captions(model):
        raise ConfigError(f"{model.path.name} is a {model.variant} checkpoint, which does not take a caption; a "
                          "text-to-image checkpoint (stackgan) is needed for --caption")
    return model


def check_stage(model: LoadedGenerator, stage: int | None) -> int:
    """The stage to draw (1-based; None: the last), or a ConfigError naming the stages there are."""
    names = stage_names(model)
    if stage is None:
        return len(names) or 1
    if not names:
        raise ConfigError(f"{model.path.name} ({model.variant}) draws in one stage; leave --stage out")
    if not 1 <= stage <= len(names):
        raise ConfigError(f"stage must be 1 to {len(names)} ({', '.join(names)}); got {stage}")
    return stage


@dataclass(frozen=True)
class AttributeReading:
    """One attribute as the encoder read it: the word it chose (or "not said") and its probability."""

    name: str
    word: str
    probability: float
    said: bool


@dataclass(frozen=True)
class Understanding:
    """A sentence as the model understood it: the words, the encoder's digit and attributes, and warnings."""

    reading: Reading
    digit: int
    digit_probability: float
    attributes: tuple[AttributeReading, ...]
    tokens: torch.Tensor
    warnings: list[str] = field(default_factory=list)


def vocabulary_of(model: LoadedGenerator) -> Vocabulary:
    return Vocabulary(list(model.dataset.details["vocabulary"]))


def _warnings(reading: Reading) -> list[str]:
    notes = []
    if reading.unknown_words:
        unknown = ", ".join(f"“{word}”" for word in reading.unknown_words[:12])
        notes.append(f"not in the vocabulary, so not read: {unknown}")
    if reading.symbols:
        notes.append(f"symbols that are no words, not read: {' '.join(reading.symbols[:12])}")
    digits = sorted({_DIGIT_OF_WORD[word] for word in reading.words if word in _DIGIT_OF_WORD})
    numbers = [word for word in reading.words if word.isdigit() and word not in _DIGIT_OF_WORD]
    if numbers:
        notes.append(f"{', '.join(numbers)}: only single digits 0-9 are drawn")
    if len(digits) > 1:
        notes.append(f"it names several digits ({', '.join(map(str, digits))}); the model draws one digit")
    if not digits:
        notes.append("it names no digit (0-9 as a numeral or a word), so the model guesses one")
    return notes


@torch.inference_mode()
def understand(model: LoadedGenerator, text: str) -> Understanding:
    """Read `text` with the checkpoint's vocabulary and encoder; a CaptionError when there is nothing to read."""
    require_captions(model)
    vocabulary = vocabulary_of(model)
    reading = vocabulary.read(text)
    if not reading.known_words:
        raise CaptionError("none of the words is known to the model ("
                           + (", ".join(reading.unknown_words[:8]) or "no words at all, only symbols")
                           + "); describe a digit in English, for example \"a bold 7 leaning right\"")
    encoder = model.generator.text_encoder
    tokens = vocabulary.encode(reading).to(next(encoder.parameters()).device)
    digit_logits, attribute_logits = encoder.read(encoder(tokens))
    digit_probabilities = digit_logits.float().softmax(1)[0]
    attributes = []
    for attribute, logits in zip(ATTRIBUTES, attribute_logits):
        probabilities = logits.float().softmax(1)[0]
        choice = int(probabilities.argmax())
        said = choice < len(attribute.bins)
        attributes.append(AttributeReading(attribute.name, attribute.bins[choice] if said else "not said",
                                           float(probabilities[choice]), said))
    return Understanding(reading, int(digit_probabilities.argmax()), float(digit_probabilities.max()),
                         tuple(attributes), tokens, _warnings(reading))


@torch.inference_mode()
def draw_stages(model: LoadedGenerator, tokens: torch.Tensor | None, seeds: list[int]) -> list[torch.Tensor]:
    """Every stage's images (one per noise seed, (n, C, h, w) in [-1, 1] on the CPU), each seed's image from the
    same noise at every stage; `tokens` None draws from the prior conditions."""
    if not 1 <= len(seeds) <= 64:
        raise ConfigError(f"between 1 and 64 seeds are drawn at once; got {len(seeds)}")
    device = next(model.generator.parameters()).device
    latent = torch.cat([model.layout.build(1, int(seed), device) for seed in seeds])
    count = len(stage_names(model)) or 1
    return [model.generator.draw(latent, tokens, stage=stage).float().cpu() for stage in range(1, count + 1)]


def generate_for_caption(model: LoadedGenerator, n: int, seed: int = 0, caption: str | None = None,
                         stage: int | None = None) -> torch.Tensor:
    """`n` images of one stage (default: the last) for `caption` (None: drawn from the prior conditions)."""
    if caption is not None:
        require_captions(model)
    stage = check_stage(model, stage)
    if caption is None and not stage_names(model):
        raise ConfigError("--stage needs a model that draws in stages")
    tokens = understand(model, caption).tokens if caption is not None else None
    if not 1 <= n <= 4096:
        raise ConfigError(f"n must be an integer in [1, 4096]; got {n}")
    latent = model.layout.build(n, seed, next(model.generator.parameters()).device)
    with torch.inference_mode():
        return model.generator.draw(latent, tokens, stage=stage).float().cpu()


@dataclass(frozen=True)
class MeasuredDigit:
    """What one generated image shows: the judge's digit and the attribute bins and values measured on it."""

    digit: int
    words: tuple[str, ...]
    values: tuple[float, ...]


def measure_digits(images: torch.Tensor, judge) -> list[MeasuredDigit]:
    """The judge's digit and the measured attribute words of each image in [-1, 1]."""
    digits, _ = judge.predict(images)
    bins = measure_bins(images)
    values = measure(images)
    return [MeasuredDigit(int(digits[i]), tuple(a.bins[int(bins[i, j])] for j, a in enumerate(ATTRIBUTES)),
                          tuple(float(values[a.name][i]) for a in ATTRIBUTES)) for i in range(images.shape[0])]


@dataclass(frozen=True)
class CaptionScores:
    """How far drawings follow their captions: the share whose judged digit is the caption's, and per attribute the
    share whose measured bin is the one said (over the captions that say it), and how many captions said it."""

    captions: int
    digit: float
    attributes: dict[str, tuple[float, int]]


@torch.inference_mode()
def draw_captions(model: LoadedGenerator, texts: list[str], seed: int, batch: int = 250) -> list[torch.Tensor]:
    """Every stage's image for each caption (one noise draw each, from `seed`), in batches."""
    require_captions(model)
    vocabulary = vocabulary_of(model)
    length = int(model.dataset.details.get("caption_length", 20))
    device = next(model.generator.parameters()).device
    count = len(stage_names(model)) or 1
    stages: list[list[torch.Tensor]] = [[] for _ in range(count)]
    for start in range(0, len(texts), batch):
        chunk = texts[start:start + batch]
        tokens = vocabulary.encode_texts(chunk, length, device)
        latent = model.layout.build(len(chunk), seed + start, device)
        for stage in range(count):
            stages[stage].append(model.generator.draw(latent, tokens, stage=stage + 1).float().cpu())
    return [torch.cat(images) for images in stages]


def caption_scores(images: torch.Tensor, digits: torch.Tensor, said: torch.Tensor, judge) -> CaptionScores:
    """Scores of `images` drawn for captions that name `digits` and say `said` bins (N, attributes; -1: not said)."""
    predicted, _ = judge.predict(images)
    measured = measure_bins(images)
    attributes = {}
    for index, attribute in enumerate(ATTRIBUTES):
        mask = said[:, index] >= 0
        share = float((measured[mask, index] == said[mask, index]).float().mean()) if mask.any() else float("nan")
        attributes[attribute.name] = (share, int(mask.sum()))
    return CaptionScores(len(images), float((predicted == digits).float().mean()), attributes)
