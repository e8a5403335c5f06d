"""Real text for SeqGAN: five-character Tang poems from Debian's `fortunes-zh` (the file `tang300`).

The paper's poem experiment used five-character quatrains: 4 lines of 5 characters, 20 characters, the
same length as its oracle's sequences. `tang300` holds the 313 poems of the anthology "Three Hundred Tang
Poems" as fortune entries (title, author, then the text, with terminal colour codes). We keep the poems
whose every line is five characters and cut each into 4-line quatrains starting at every couplet (lines
1-4, 3-6, ...), punctuation dropped; each character is one token. It ships with a Debian package, so it is offline and needs no download.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch

from gan_core.errors import DatasetUnavailableError

TANG300 = Path("/usr/share/games/fortunes/tang300")
LINE_CHARACTERS = 5
LINES_PER_QUATRAIN = 4
_COLOUR_CODE = re.compile(r"\x1b\[[0-9;]*m")
_PUNCTUATION = re.compile(r"[，。？！；：、,.?!;:]")


def read_corpus(path: Path | str = TANG300) -> str:
    """The file's text, or a message that says how to get a readable one."""
    path = Path(path)
    if not path.is_file():
        hint = " (Debian: apt-get install fortunes-zh)" if path == TANG300 else ""
        raise DatasetUnavailableError(f"poem corpus {path} not found{hint}")
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DatasetUnavailableError(
            f"poem corpus {path} is not UTF-8 text (byte 0x{raw[error.start]:02x} at position {error.start}); "
            "convert it first, for example: iconv -f GB18030 -t UTF-8 FILE > FILE.utf8"
        ) from None


def five_character_poems(text: str) -> list[list[str]]:
    """The lines (5 characters each) of every poem in fortune-file `text` whose lines are all five characters."""
    poems = []
    for entry in re.split(r"\n%\n?", _COLOUR_CODE.sub("", text)):
        body = [line.strip() for line in entry.strip().splitlines()
                if line.strip() and not line.startswith("《") and not line.startswith("作者")]
        lines = [line for line in _PUNCTUATION.split("".join(body)) if line]
        if len(lines) >= LINES_PER_QUATRAIN and all(len(line) == LINE_CHARACTERS for line in lines):
            poems.append(lines)
    return poems


def quatrains(poem: list[str]) -> list[str]:
    """Every run of 4 lines that starts at a couplet (lines 1-4, 3-6, ...), joined: 20 characters each."""
    return ["".join(poem[start:start + LINES_PER_QUATRAIN]) for start in range(0, len(poem) - LINES_PER_QUATRAIN + 1, 2)]


@dataclass(frozen=True)
class CharVocabulary:
    """Characters ↔ ids; the list itself is what a checkpoint stores."""

    characters: tuple[str, ...]

    @classmethod
    def from_texts(cls, texts: list[str]) -> CharVocabulary:
        return cls(tuple(sorted(set("".join(texts)))))

    def __len__(self) -> int:
        return len(self.characters)

    def encode(self, texts: list[str]) -> torch.Tensor:
        index = {character: i for i, character in enumerate(self.characters)}
        unknown = sorted({c for text in texts for c in text if c not in index})
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {''.join(unknown[:20])}")
        return torch.tensor([[index[c] for c in text] for text in texts], dtype=torch.long)

    def decode(self, tokens: torch.Tensor) -> list[str]:
        return ["".join(self.characters[i] for i in row) for row in tokens.tolist()]


@dataclass(frozen=True)
class PoemCorpus:
    vocabulary: CharVocabulary
    train: torch.Tensor  # (n, 20) int64
    heldout: torch.Tensor


def load_poems(path: Path | str = TANG300, heldout_share: float = 0.1, seed: int = 0) -> PoemCorpus:
    """Quatrains from `path`, split by poem (so overlapping quatrains never straddle the split) at random by `seed`."""
    poems = five_character_poems(read_corpus(path))
    if len(poems) < 2:
        raise DatasetUnavailableError(
            f"poem corpus {path} holds {len(poems)} five-character poem(s); it needs at least two fortune entries "
            "(separated by lines holding only %) whose lines are five characters each"
        )
    order = torch.randperm(len(poems), generator=torch.Generator().manual_seed(seed)).tolist()
    heldout_count = max(1, round(heldout_share * len(poems)))
    heldout = [q for i in order[:heldout_count] for q in quatrains(poems[i])]
    train = [q for i in order[heldout_count:] for q in quatrains(poems[i])]
    vocabulary = CharVocabulary.from_texts(train + heldout)
    return PoemCorpus(vocabulary, vocabulary.encode(train), vocabulary.encode(heldout))
