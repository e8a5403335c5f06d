"""Captions are true of their images: hand-made strokes get the words their measures say, sentences are
deterministic per (image, seed), held-out combinations stay out of training, and typed sentences are read safely."""

import random

import pytest
import torch

from gan_core.text.attributes import SLANT, THICKNESS, WIDTH, measure, measure_bins
from gan_core.text.captions import (
    DIGIT_WORDS,
    HELD_OUT_COMBINATIONS,
    UNSPECIFIED,
    caption_for,
    compose_caption,
    vocabulary_words,
)
from gan_core.text.reading import MAX_CHARACTERS, CaptionError, Vocabulary, words_of
from gan_core.text.training_captions import (
    CaptionBank,
    CaptionedBatches,
    combination_index,
    combination_parts,
    held_out_mask,
)


def stroke(width: float, shear: float = 0.0, length: int = 20, side: int = 32) -> torch.Tensor:
    """A (1, 1, side, side) image in [-1, 1]: a vertical bar `width` px wide, its top shifted right by `shear` px per row."""
    image = -torch.ones(1, 1, side, side)
    top = (side - length) // 2
    for row in range(top, top + length):
        centre = side / 2 + shear * (top + length / 2 - row)
        left = int(round(centre - width / 2))
        image[0, 0, row, left:left + int(width)] = 1.0
    return image


def words(image: torch.Tensor) -> tuple[str, str, str]:
    slant, thickness, width = measure_bins(image)[0].tolist()
    return SLANT.bins[slant], THICKNESS.bins[thickness], WIDTH.bins[width]


def test_a_thick_stroke_is_bold_and_a_hairline_thin():
    assert words(stroke(4))[1] == "bold"
    assert words(stroke(1))[1] == "thin"
    assert words(stroke(2))[1] == "medium"
    assert measure(stroke(3))["thickness"].item() == pytest.approx(3, rel=0.2)  # twice area over boundary ≈ width


def test_a_sheared_stroke_leans_and_a_vertical_one_is_upright():
    assert words(stroke(2, shear=0.5))[0] == "leaning right"
    assert words(stroke(2, shear=-0.5))[0] == "leaning left"
    assert words(stroke(2, shear=0.0))[0] == "upright"


def test_a_wide_blob_is_wide_and_a_bar_narrow():
    blob = -torch.ones(1, 1, 32, 32)
    blob[..., 8:24, 4:28] = 1.0
    assert words(blob)[2] == "wide"
    assert words(stroke(2))[2] == "narrow"


def test_measures_agree_across_image_sizes():
    """Stage-I images (16×16) are measured at 32×32 like the final ones."""
    image = stroke(4, shear=0.5)
    small = torch.nn.functional.avg_pool2d(image, 2)
    assert words(small)[:2] == words(image)[:2]


def test_captions_are_deterministic_per_image_and_seed_and_true_of_the_image():
    rng = random.Random(0)
    for index in range(300):
        digit, bins = rng.randrange(10), tuple(rng.randrange(3) for _ in range(3))
        text, facts = caption_for(digit, bins, index, seed=7)
        assert (text, facts) == caption_for(digit, bins, index, seed=7)
        assert facts.describes(digit, bins)
        said_words = set(words_of(text))
        assert said_words & set(DIGIT_WORDS[digit]), text
    texts = {caption_for(3, (0, 2, 1), index, seed)[0] for index in range(5) for seed in range(5)}
    assert len(texts) > 10, "several phrasings"


def test_the_digit_is_written_as_a_numeral_and_as_a_word_and_attributes_with_synonyms():
    rng = random.Random(1)
    sentences = [compose_caption(7, (2, 2, 2), rng)[0] for _ in range(400)]
    found = {word for sentence in sentences for word in words_of(sentence)}
    assert {"7", "seven"} <= found
    assert {"bold", "thick", "heavy"} <= found and {"right", "italic"} <= found


def test_a_caption_that_omits_an_attribute_says_so():
    rng = random.Random(2)
    facts = [compose_caption(1, (0, 0, 0), rng)[1] for _ in range(200)]
    assert any(f.bins[2] == UNSPECIFIED for f in facts) and any(f.bins[0] == 0 for f in facts)


def test_held_out_combinations_are_left_out_of_training_images_and_captions():
    vocabulary = Vocabulary(vocabulary_words())
    bank = CaptionBank(vocabulary)
    trainable = bank.trainable
    digits, said = bank.digits[trainable], bank.said[trainable]
    assert not held_out_mask(digits, said).any()
    digit, slant, thickness = HELD_OUT_COMBINATIONS[0]
    named = held_out_mask(bank.digits, bank.said)
    assert named.any(), "the bank still holds captions of held-out combinations, for the benchmark"
    combinations = combination_index(torch.tensor([digit, digit, 1]), torch.tensor([[slant, thickness, 0],
                                                                                     [slant, thickness, 2], [0, 0, 0]]))
    images = torch.zeros(3, 1, 16, 16, dtype=torch.uint8)
    batches = CaptionedBatches(images, combinations, 4, torch.device("cpu"))
    assert batches.combinations.tolist() == [combinations[2].item()]


def test_mismatched_captions_contradict_their_images():
    bank = CaptionBank(Vocabulary(vocabulary_words()))
    torch.manual_seed(0)
    combinations = torch.randint(0, 270, (512,))
    wrong = bank.mismatched_rows(combinations)
    assert bank.contradicts(wrong, combinations).all()
    right = bank.real_rows(combinations)
    assert not bank.contradicts(right, combinations).any()
    digits, bins = combination_parts(combinations)
    assert torch.equal(combination_index(digits, bins), combinations)


@pytest.mark.parametrize("text, known, unknown", [
    ("A THIN ３ leaning LEFT", ["a", "thin", "3", "leaning", "left"], []),
    ("a bold ٣ 七", ["a", "bold", "3"], ["七"]),
    ("a fluffy seven", ["a", "seven"], ["fluffy"]),
    ("left-leaning 12", ["left", "leaning"], ["12"]),
])
def test_sentences_are_read_unicode_safely_and_unknown_words_are_kept(text, known, unknown):
    reading = Vocabulary(vocabulary_words()).read(text)
    assert reading.known_words == known
    assert reading.unknown_words == unknown


def test_emoji_are_reported_and_bad_sentences_refused():
    vocabulary = Vocabulary(vocabulary_words())
    assert vocabulary.read("a bold 7 🙂🎉").symbols == ("🙂", "🎉")
    for text in ("", "   "):
        with pytest.raises(CaptionError, match="empty"):
            vocabulary.read(text)
    with pytest.raises(CaptionError, match="10,000 characters"):
        vocabulary.read("a" * 10_000)
    assert len("a bold seven") < MAX_CHARACTERS
