"""The captions StackGAN trains on: a fixed bank of sentences per (digit, slant, thickness, width), and the
measured attribute combination of every training image.

A caption for a real image is drawn from its combination's bank rows; a mismatched caption (the matching-aware
discriminator's "real image, wrong text") from rows that contradict the image in a word they say. All of it is
tensors on the training device, so a batch's captions are indexing, with no per-sample Python work, and every draw
comes from the global random stream, so a resumed run draws what an uninterrupted one would.
"""

from __future__ import annotations

import torch

from gan_core.data.types import to_unit_range
from gan_core.text.attributes import ATTRIBUTES, measure_bins
from gan_core.text.captions import HELD_OUT_COMBINATIONS, UNSPECIFIED, caption_for
from gan_core.text.reading import Vocabulary

BINS = 3
COMBINATIONS = 10 * BINS ** len(ATTRIBUTES)
CAPTIONS_PER_COMBINATION = 16
CAPTION_LENGTH = 20
BANK_SEED = 20_170_000
MISMATCH_CANDIDATES = 8


def combination_index(digits: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """digit, slant, thickness, width → one index in [0, COMBINATIONS)."""
    index = digits.long()
    for column in range(bins.shape[1]):
        index = index * BINS + bins[:, column].long()
    return index


def combination_parts(index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The inverse of `combination_index`: (digits, bins (..., 3))."""
    columns = []
    for _ in ATTRIBUTES:
        columns.append(index % BINS)
        index = index // BINS
    return index, torch.stack(columns[::-1], -1)


def held_out_mask(digits: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """True where (digit, slant, thickness) is a held-out combination."""
    mask = torch.zeros(digits.shape, dtype=torch.bool, device=digits.device)
    for digit, slant, thickness in HELD_OUT_COMBINATIONS:
        mask |= (digits == digit) & (bins[:, 0] == slant) & (bins[:, 1] == thickness)
    return mask


@torch.no_grad()
def image_combinations(images_uint8: torch.Tensor, labels: torch.Tensor, chunk: int = 1000) -> torch.Tensor:
    """The combination index of every image (uint8 (N, 1, H, W)), measured in chunks."""
    bins = torch.cat([measure_bins(to_unit_range(images_uint8[start:start + chunk].cpu()))
                      for start in range(0, images_uint8.shape[0], chunk)])
    return combination_index(labels.cpu(), bins)


class CaptionBank:
    """`CAPTIONS_PER_COMBINATION` sentences for every combination: token ids, what each says, and sampling."""

    def __init__(self, vocabulary: Vocabulary, device: torch.device | str = "cpu") -> None:
        device = torch.device(device)  # explicit devices throughout: preflight builds models under "meta"
        texts, digits, said = [], [], []
        for combination in range(COMBINATIONS):
            digit, bins = combination // BINS ** len(ATTRIBUTES), []
            for power in reversed(range(len(ATTRIBUTES))):
                bins.append(combination // BINS**power % BINS)
            for k in range(CAPTIONS_PER_COMBINATION):
                text, facts = caption_for(digit, tuple(bins), combination * CAPTIONS_PER_COMBINATION + k, BANK_SEED)
                texts.append(text)
                digits.append(facts.digit)
                said.append(facts.bins)
        self.texts = texts
        self.tokens = vocabulary.encode_texts(texts, CAPTION_LENGTH, device)
        self.digits = torch.tensor(digits, device=device)
        self.said = torch.tensor(said, device=device)  # (rows, 3): bin or UNSPECIFIED
        # Rows a model may train on: captions that name a held-out combination are kept for the benchmark.
        self.trainable = (~held_out_mask(self.digits, self.said)).nonzero().flatten()

    def real_rows(self, combinations: torch.Tensor) -> torch.Tensor:
        """A random bank row describing each image's combination (never a held-out one: such images are not trained on)."""
        pick = torch.randint(0, CAPTIONS_PER_COMBINATION, combinations.shape, device=combinations.device)
        return combinations * CAPTIONS_PER_COMBINATION + pick

    def contradicts(self, rows: torch.Tensor, combinations: torch.Tensor) -> torch.Tensor:
        """True where caption `rows` say something false of images with `combinations` (broadcasting)."""
        digits, bins = combination_parts(combinations)
        said = self.said[rows]
        wrong_word = ((said != UNSPECIFIED) & (said != bins)).any(-1)
        return (self.digits[rows] != digits) | wrong_word

    def mismatched_rows(self, combinations: torch.Tensor) -> torch.Tensor:
        """For each image a trainable caption that contradicts it: the first of a few random candidates that does.
        (The chance that none of 8 does is below 1e-7; the test checks the result.)"""
        n = combinations.shape[0]
        candidates = self.trainable[torch.randint(0, self.trainable.numel(), (n, MISMATCH_CANDIDATES),
                                                  device=combinations.device)]
        wrong = self.contradicts(candidates, combinations[:, None])
        first = wrong.float().argmax(1)
        return candidates.gather(1, first[:, None]).squeeze(1)

    def targets(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The encoder's training targets: digits (N,) and attribute classes (N, 3), "not said" as class BINS."""
        said = self.said[rows]
        return self.digits[rows], torch.where(said == UNSPECIFIED, torch.full_like(said, BINS), said)


class CaptionedBatches:
    """Random real images (never of a held-out combination) with their combination indices, on the device."""

    def __init__(self, images_uint8: torch.Tensor, combinations: torch.Tensor, batch_size: int,
                 device: torch.device) -> None:
        digits, bins = combination_parts(combinations)
        keep = ~held_out_mask(digits, bins)
        self.images = images_uint8[keep.to(images_uint8.device)].to(device)
        self.combinations = combinations[keep].to(device)
        self.batch_size = batch_size
        self.device = device

    def __call__(self) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.randint(0, self.images.shape[0], (self.batch_size,), device=self.device)
        return to_unit_range(self.images.index_select(0, index)), self.combinations.index_select(0, index)
