"""Compare pix2pix gray2color settings on a validation photo, so the held-out cat is not used to choose them.

The shipped gray2color model is scored on crops of the held-out cat (`translation_quality.py`). Picking its
settings by that score would make the score optimistic. Here one *training* photo is left out of training
instead and its crops are scored, with the same table as `translation_quality.py` (the model, the grey
input itself, the mean training colour, the input's lightness with the mean colour), and then the photo
whole as the translate page colours it (`--whole-picture` there); the cat is in neither split. Each
setting trains a fresh model with the shipped recipe's other settings, one after another.

    python -m benchmarks.colorization_validation --validation coffee astronaut --l1-weights 100 1000 \
        --chroma-downsample 1 4 8 --steps 2000

Every combination of the L1 weights and chroma resolutions is trained; other settings go in
`--set key=value` (a TrainConfig field; repeatable).
"""

from __future__ import annotations

import argparse
import tempfile
import time

from benchmarks.translation_quality import pix2pix_report, whole_picture_report
from gan_core.checkpoints import load_generator
from gan_core.data.embedded_tasks import TASKS, TRAIN_PHOTOS
from gan_core.registry import get_variant
from gan_core.training.run_files import RunFiles
from gan_core.training.trainer import train

TASK = "gray2color"
SHIPPED_RECIPE = {"ema_decay": 0.999, "seed": 0, "device": "cpu"}
"""The shipped model's settings besides the registry defaults (checkpoints/README.md)."""


def validate(photo: str, steps: int, settings: dict[str, object]) -> str:
    """Train on the training photos but `photo` and return the report on `photo`'s crops."""
    config = get_variant("pix2pix").default_config(dataset=TASK, steps=steps, **{**SHIPPED_RECIPE, **settings})
    data = TASKS[TASK].load(config.image_size, train_photos=tuple(p for p in TRAIN_PHOTOS if p != photo),
                            held_out_photos=(photo,))
    with tempfile.TemporaryDirectory() as run_dir:
        started = time.perf_counter()
        result = train(config, run_dir, dataset=data)
        if result.status != "finished":
            return f"{settings}: training ended {result.status}"
        checkpoint = RunFiles(run_dir).generator
        report = pix2pix_report(load_generator(checkpoint), data)
        whole = whole_picture_report(checkpoint, photo)
    return (f"**validation photo {photo}, {steps} steps, {settings}** "
            f"({time.perf_counter() - started:.0f} s)\n\n{report}\n\n{whole}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--validation", nargs="+", default=["coffee"], choices=TRAIN_PHOTOS,
                        help="training photos to leave out, one at a time, and score on (never the held-out cat)")
    parser.add_argument("--l1-weights", nargs="+", type=float, default=[100.0])
    parser.add_argument("--chroma-downsample", nargs="+", type=int, default=[1, 4])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--set", dest="settings", action="append", default=[], type=lambda text: text.split("=", 1),
                        metavar="KEY=VALUE", help="another TrainConfig setting for every run (typed and checked "
                        "when the config is built, as the CLI's flags are)")
    args = parser.parse_args()
    for photo in args.validation:
        for l1_weight in args.l1_weights:
            for factor in args.chroma_downsample:
                settings = {"l1_weight": l1_weight, "chroma_downsample": factor, **dict(args.settings)}
                print(validate(photo, args.steps, settings), "\n", flush=True)


if __name__ == "__main__":
    main()
