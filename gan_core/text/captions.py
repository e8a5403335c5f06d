"""Captions of digits: the words for each attribute bin, and sentences made from a digit and its measured bins.

A caption is true of its image by construction: the digit is the image's label, and each attribute word is the bin
of a fixed image measure (`gan_core.text.attributes`). Each attribute has several phrasings and synonyms ("bold",
"thick", "heavy"; "leaning left", "tilted to the left", "left-leaning"), the digit is written as a numeral or as a
word, and a caption mentions slant and thickness most of the time and width less often, so a text encoder must
learn what the words mean, not a fixed template. The same (attributes, seed) always gives the same sentence.

Whole combinations of digit, slant and thickness are held out of training (`HELD_OUT_COMBINATIONS`): the model never
sees a bold 4 leaning left, so the benchmark can ask whether it composes words it learned apart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gan_core.text.attributes import ATTRIBUTES

DIGIT_WORDS = (("0", "zero", "nought"), ("1", "one"), ("2", "two"), ("3", "three"), ("4", "four"), ("5", "five"),
               ("6", "six"), ("7", "seven"), ("8", "eight"), ("9", "nine"))
"""How a caption may name each digit: its numeral first, then words."""

# Per attribute and bin (in the order of `attributes.ATTRIBUTES` and their bins): words before the noun
# (adjectives) and phrases after it (predicates). Slant's predicates say how it leans; width's say its width.
ADJECTIVES = (
    (("left-leaning", "left-slanted", "backslanted"), ("upright", "straight", "vertical"),
     ("right-leaning", "right-slanted", "italic")),
    (("thin", "fine", "light", "delicate"), ("medium", "regular", "medium-weight"), ("bold", "thick", "heavy", "fat")),
    (("narrow", "slim", "condensed"), ("average-width", "normal-width"), ("wide", "broad", "extended")),
)
PREDICATES = (
    (("leaning left", "tilted to the left", "slanting left", "that leans left"),
     ("standing upright", "standing straight", "held upright", "that stands straight"),
     ("leaning right", "tilted to the right", "slanting right", "that leans right")),
    (("in thin strokes", "drawn with a fine pen", "with light lines"),
     ("in medium strokes", "drawn with a regular pen", "with medium lines"),
     ("in bold strokes", "drawn with a thick pen", "with heavy lines")),
    (("of narrow build", "that is narrow"), ("of average width", "of normal width"), ("of wide build", "that is wide")),
)
MENTION_CHANCE = (0.8, 0.8, 0.4)
"""How often a caption mentions slant, thickness and width; the digit is always named."""

HELD_OUT_COMBINATIONS = ((4, 0, 2), (7, 1, 0), (9, 2, 0))
"""(digit, slant bin, thickness bin) never trained on: a bold 4 leaning left, a thin upright 7, a thin 9 leaning
right. Images with these combinations are left out of training, and so are captions that describe them."""

UNSPECIFIED = -1
"""The value of an attribute a caption does not mention."""


@dataclass(frozen=True)
class CaptionFacts:
    """What a caption says: the digit and, per attribute, its bin or UNSPECIFIED."""

    digit: int
    bins: tuple[int, ...]

    def describes(self, digit: int, bins: tuple[int, ...]) -> bool:
        """True when an image of `digit` with measured `bins` fits every word of the caption."""
        return self.digit == digit and all(said in (UNSPECIFIED, true) for said, true in zip(self.bins, bins))

    @property
    def held_out(self) -> bool:
        """It names a held-out combination (slant and thickness both said, and together held out)."""
        return (self.digit, self.bins[0], self.bins[1]) in HELD_OUT_COMBINATIONS


def is_held_out(digit: int, bins: tuple[int, ...]) -> bool:
    return (digit, bins[0], bins[1]) in HELD_OUT_COMBINATIONS


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou8" or word in ("11", "18") else "a"


def compose_caption(digit: int, bins: tuple[int, ...], rng: random.Random,
                    always_say: tuple[int, ...] = ()) -> tuple[str, CaptionFacts]:
    """One sentence about a digit with measured `bins`, its phrasing drawn from `rng`, and what it says; the
    attributes at the indices `always_say` are always mentioned (the benchmark's captions of combinations)."""
    said = tuple(bin_ if index in always_say or rng.random() < chance else UNSPECIFIED
                 for index, (bin_, chance) in enumerate(zip(bins, MENTION_CHANCE)))
    noun = rng.choice(DIGIT_WORDS[digit])
    if rng.random() < 0.2:
        noun = f"{rng.choice(('digit', 'number', 'figure'))} {noun}"
    adjectives, predicates = [], []
    for index, bin_ in enumerate(said):
        if bin_ == UNSPECIFIED:
            continue
        if rng.random() < 0.5:
            adjectives.append(rng.choice(ADJECTIVES[index][bin_]))
        else:
            predicates.append(rng.choice(PREDICATES[index][bin_]))
    rng.shuffle(adjectives)
    rng.shuffle(predicates)
    adjective_text = rng.choice((" ", ", ")).join(adjectives)
    head = f"{adjective_text} {noun}" if adjectives else noun
    head = f"{_article(head)} {head}" if rng.random() < 0.7 else head
    if predicates:
        joined = predicates[0] if len(predicates) == 1 else ", ".join(predicates[:-1]) + " and " + predicates[-1]
        sentence = f"{head} {joined}" if rng.random() < 0.6 else f"{head}, {joined}"
    else:
        sentence = head
    return sentence, CaptionFacts(digit, said)


def caption_for(digit: int, bins: tuple[int, ...], image_index: int, seed: int) -> tuple[str, CaptionFacts]:
    """The caption of image `image_index` under `seed`: the same pair always gives the same sentence."""
    return compose_caption(digit, bins, random.Random(f"{seed}:{image_index}"))


def vocabulary_words() -> list[str]:
    """Every word a caption can contain, sorted: what a text encoder trained on these captions knows."""
    from gan_core.text.reading import words_of

    phrases = [word for words in DIGIT_WORDS for word in words] + ["digit", "number", "figure", "a", "an", "and"]
    for table in (ADJECTIVES, PREDICATES):
        phrases += [phrase for attribute in table for bin_ in attribute for phrase in bin_]
    return sorted({word for phrase in phrases for word in words_of(phrase)})


def attribute_names() -> tuple[str, ...]:
    return tuple(attribute.name for attribute in ATTRIBUTES)
