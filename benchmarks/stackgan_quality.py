"""StackGAN on captions it was not trained on: does the judge read the digit named, and do the measured slant and
thickness fall in the bins said? Separately for the attribute combinations held out of training, and Stage-II's
Fréchet distance against Stage-I's (upsampled) output.

Caption sets (every sentence also found in the training bank is dropped, so none was trained on):
- test images: the captions of mnist_5k's 1,000 held-out digits, phrased with seed `--seed` (the natural mix:
  slant and thickness said about 80% of the time, width 40%);
- seen combinations: for each (digit, slant, thickness) combination trained on, `--per-combination` captions that
  always say slant and thickness;
- held-out combinations: the same for the combinations never trained on (`gan_core.text.captions.HELD_OUT_COMBINATIONS`).
Each caption is drawn once, from noise seeded by `--seed`. Fréchet distances are in the judge's features, against
the 1,000 held-out real digits: Stage-II at 32×32, and Stage-I upsampled bilinearly from 16×16, on the test-image
captions.

    OMP_NUM_THREADS=1 python -m benchmarks.stackgan_quality --checkpoint checkpoints/stackgan-mnist.safetensors
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import torch
import torch.nn.functional as F

from gan_core.checkpoints import load_generator
from gan_core.data.catalogue import load_dataset
from gan_core.judge import load_judge
from gan_core.metrics import DigitsReference, frechet_distance
from gan_core.text.captions import HELD_OUT_COMBINATIONS, caption_for, compose_caption, is_held_out
from gan_core.text.training_captions import CaptionBank, image_combinations
from gan_core.text_to_image import caption_scores, draw_captions, vocabulary_of

CHECKPOINT = Path(__file__).resolve().parents[1] / "checkpoints" / "stackgan-mnist.safetensors"


def test_image_captions(seed: int, trained: set[str]) -> tuple[list[str], list[int], list[tuple[int, ...]]]:
    data = load_dataset("mnist_5k", 32)
    combinations = image_combinations(data.test_images, data.test_labels)
    texts, digits, said = [], [], []
    for index, (label, combination) in enumerate(zip(data.test_labels.tolist(), combinations.tolist())):
        bins = (combination // 9 % 3, combination // 3 % 3, combination % 3)
        text, facts = caption_for(label, bins, index, seed)
        if text not in trained:
            texts.append(text)
            digits.append(facts.digit)
            said.append(facts.bins)
    return texts, digits, said


def combination_captions(combinations, per_combination: int, seed: int, trained: set[str]):
    rng = random.Random(seed)
    texts, digits, said = [], [], []
    for digit, slant, thickness in combinations:
        made = 0
        while made < per_combination:
            text, facts = compose_caption(digit, (slant, thickness, rng.randrange(3)), rng, always_say=(0, 1))
            if text in trained:
                continue
            texts.append(text)
            digits.append(facts.digit)
            said.append(facts.bins)
            made += 1
    return texts, digits, said


def row(name: str, model, judge, texts, digits, said, seed: int):
    images = draw_captions(model, texts, seed)[-1]
    scores = caption_scores(images, torch.tensor(digits), torch.tensor(said), judge)
    slant, thickness, width = (scores.attributes[name_] for name_ in ("slant", "thickness", "width"))
    return (f"| {name} | {scores.captions} | {scores.digit:.3f} | {slant[0]:.3f} ({slant[1]}) | "
            f"{thickness[0]:.3f} ({thickness[1]}) | {width[0]:.3f} ({width[1]}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=CHECKPOINT)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-combination", type=int, default=40)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    model = load_generator(args.checkpoint)
    judge = load_judge()
    trained = set(CaptionBank(vocabulary_of(model)).texts)
    seen = [(d, s, t) for d in range(10) for s in range(3) for t in range(3) if not is_held_out(d, (s, t))]
    print(f"{args.checkpoint.name}, step {model.step}, evaluation seed {args.seed}\n")
    print("| captions | n | digit (judge) | slant bin (n said) | thickness bin (n said) | width bin (n said) |")
    print("|---|---|---|---|---|---|")
    test_texts, test_digits, test_said = test_image_captions(args.seed, trained)
    print(row("test images' captions", model, judge, test_texts, test_digits, test_said, args.seed))
    print(row("seen combinations", model, judge, *combination_captions(seen, args.per_combination, args.seed, trained),
              args.seed))
    print(row("held-out combinations", model, judge,
              *combination_captions(HELD_OUT_COMBINATIONS, 5 * args.per_combination, args.seed, trained), args.seed))
    for combination in HELD_OUT_COMBINATIONS:
        print(row(f"held out {combination}", model, judge,
                  *combination_captions([combination], 5 * args.per_combination, args.seed, trained), args.seed))

    reference = DigitsReference(judge)
    first, second = draw_captions(model, test_texts, args.seed)
    upsampled = F.interpolate(first, size=second.shape[-2:], mode="bilinear", align_corners=False)
    _, second_features = judge.predict(second)
    _, first_features = judge.predict(upsampled)
    print(f"\nFréchet in judge features vs the 1,000 held-out digits ({len(test_texts)} test-image captions): "
          f"Stage-II {frechet_distance(second_features, reference.test_features):.2f}, Stage-I upsampled "
          f"{frechet_distance(first_features, reference.test_features):.2f}, real training split "
          f"{reference.real_vs_real_frechet:.2f}")


if __name__ == "__main__":
    main()
