"""Reading a sentence a person typed: Unicode-safe words, the known and unknown ones, and token ids for an encoder.

Words are runs of letters and digits in any script after Unicode NFKC normalisation and case folding ("SEVEN",
"ｓｅｖｅｎ" and "seven" are one word; a numeral in another script, "٣", is read as "3"; "七" is a word too, just not
a known one). Hyphenated words split
("left-leaning" is "left" "leaning"). Symbols that are no words (emoji, punctuation beyond the usual) are
reported, not silently dropped; so is every unknown word. A sentence longer than `MAX_CHARACTERS` is refused:
captions are short, and a pasted page is a mistake to point out rather than to read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import torch

from gan_core.errors import ConfigError

MAX_CHARACTERS = 300
MAX_WORDS = 40
PAD, UNKNOWN = 0, 1
SPECIAL_TOKENS = ("<pad>", "<unk>")
_WORD = re.compile(r"[^\W_]+")
_USUAL_PUNCTUATION = set(" \t\n,.;:!?'\"()-–—/")


class CaptionError(ConfigError):
    """A sentence that cannot be read as a caption (empty, too long, no known word)."""


def words_of(text: str) -> list[str]:
    """The words of `text`, normalised (NFKC, case-folded); hyphens and punctuation separate words."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    return [_as_ascii_numeral(word) for word in words]


def _as_ascii_numeral(word: str) -> str:
    """A numeral in any script ("٣", "३") as its ASCII digits, so a digit written as a number is read in any script."""
    if all(unicodedata.decimal(char, None) is not None for char in word):
        return "".join(str(unicodedata.decimal(char)) for char in word)
    return word


@dataclass(frozen=True)
class Reading:
    """A sentence as the vocabulary sees it: each word in order with whether it is known, and ignored symbols."""

    text: str
    words: tuple[str, ...]
    known: tuple[bool, ...]
    symbols: tuple[str, ...]

    @property
    def known_words(self) -> list[str]:
        return [word for word, known in zip(self.words, self.known) if known]

    @property
    def unknown_words(self) -> list[str]:
        return [word for word, known in zip(self.words, self.known) if not known]


class Vocabulary:
    """Word ↔ id, with ids 0 and 1 for padding and unknown words; stored in a checkpoint as its word list."""

    def __init__(self, words: list[str]) -> None:
        self.words = list(SPECIAL_TOKENS) + [word for word in words if word not in SPECIAL_TOKENS]
        self.ids = {word: index for index, word in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def to_list(self) -> list[str]:
        return self.words[len(SPECIAL_TOKENS):]

    def read(self, text: str) -> Reading:
        """What the vocabulary makes of `text`; raises CaptionError for an empty or overlong sentence."""
        if not isinstance(text, str) or not text.strip():
            raise CaptionError("the caption is empty: describe a digit, for example \"a thin 3 leaning left\"")
        if len(text) > MAX_CHARACTERS:
            raise CaptionError(f"the caption has {len(text):,} characters; a caption is one short sentence of at most "
                               f"{MAX_CHARACTERS} (for example \"a bold seven leaning right\")")
        words = words_of(text)
        if len(words) > MAX_WORDS:
            raise CaptionError(f"the caption has {len(words)} words; at most {MAX_WORDS} are read")
        normalised = unicodedata.normalize("NFKC", text)
        symbols = tuple(dict.fromkeys(char for char in _WORD.sub(" ", normalised)
                                      if char not in _USUAL_PUNCTUATION and not char.isspace()))
        return Reading(text, tuple(words), tuple(word in self.ids for word in words), symbols)

    def encode(self, reading: Reading, length: int | None = None) -> torch.Tensor:
        """(1, length) int64 token ids of a reading (unknown words as UNKNOWN, padded with PAD)."""
        ids = [self.ids.get(word, UNKNOWN) for word in reading.words]
        length = length or max(len(ids), 1)
        return torch.tensor([ids[:length] + [PAD] * (length - len(ids[:length]))], dtype=torch.int64, device="cpu")

    def encode_texts(self, texts: list[str], length: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """(N, length) token ids of known-good captions (the training captions), without a Reading each."""
        rows = [[self.ids.get(word, UNKNOWN) for word in words_of(text)][:length] for text in texts]
        return torch.tensor([row + [PAD] * (length - len(row)) for row in rows], dtype=torch.int64, device=device)
