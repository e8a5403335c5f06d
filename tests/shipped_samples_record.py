"""Record what every shipped checkpoint draws, so a refactor can prove it changed nothing.

`python tests/shipped_samples_record.py` writes `tests/shipped_samples.npz`: for each
`checkpoints/*.safetensors` model (the judges aside), eight samples at seed 0 (noise-to-image variants; text-to-image
ones draw RECORDED_CAPTION) or the translation of the embedded example photo at 64 px (translators), or eight refined
synthetic digits (refiners; rendered from the wheels' fonts only, so the Debian fonts a machine happens to have change
nothing), as uint8 pixels; for a ranking model, its generator's scores of every item for the first eight users
(× 10,000, rounded); for a sequence model, eight sequences' token ids at seed 0. Neither needs the ratings or the
corpus installed.
`tests/test_shipped_samples.py` compares today's output against it. Run it again only when a shipped
model is replaced on purpose, and say so in the commit; `--add NAME ...` records new models alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RECORD = Path(__file__).with_name("shipped_samples.npz")
SAMPLES = 8
TRANSLATION_SIDE = 64
RECORDED_CAPTION = "a bold 7 leaning right"


def shipped_models() -> list[Path]:
    return [path for path in sorted((ROOT / "checkpoints").glob("*.safetensors")) if not path.stem.startswith("judge")]


def draw_rankings(path: Path) -> np.ndarray:
    """int32 (8, items): the generator's score of every item for users 0..7, in units of 1e-4."""
    import torch

    from gan_core.checkpoints import load_generator

    with torch.no_grad():
        scores = load_generator(path).generator["generator"].all_scores(torch.arange(SAMPLES))
    return scores.mul(10_000).round().to(torch.int32).numpy()


def draw_sequences(path: Path) -> np.ndarray:
    """int64 (8, length): token ids of eight sequences drawn at seed 0 and temperature 1."""
    from gan_core.sequence.sampling import load_sequence_model

    return load_sequence_model(path).sample_ids(SAMPLES, seed=0).numpy()


NOT_IMAGES = {"ranked_lists": draw_rankings, "text_lines": draw_sequences}
"""What is recorded of a model whose samples are not pictures, by its kind of sample."""


def draw(path: Path) -> np.ndarray:
    """uint8 pixels of what `path` draws: samples (N, C, H, W) or a translation (H, W, C)."""
    import torch

    from gan_core.checkpoints import read_metadata
    from gan_core.registry import get_variant

    torch.set_num_threads(1)
    spec = get_variant(read_metadata(path)["variant"])
    if spec.sample_kind.name in NOT_IMAGES:
        return NOT_IMAGES[spec.sample_kind.name](path)
    if spec.sample_kind.name == "refined_pairs":  # a refiner: eight synthetic digits (renderer seed 0), refined
        from gan_core.checkpoints import load_generator
        from gan_core.data.synthetic_digits import Renderer, font_sources
        from gan_core.data.types import from_unit_range
        from gan_core.refine import refine_random, refiner_size

        loaded = load_generator(path)
        refined = refine_random(loaded.generator, refiner_size(loaded.generator, loaded.dataset.image_shape),
                                Renderer(font_sources(system=False)), SAMPLES, seed=0).refined
        return from_unit_range(refined).mul(255).round().to(torch.uint8).numpy()
    if spec.image_to_image:
        from gan_core.translation import example_picture, load_translator, translate

        output = translate(load_translator(path), example_picture(), max_side=TRANSLATION_SIDE).output
        return np.asarray(output.convert("RGB"), dtype=np.uint8)
    from gan_core.checkpoints import load_generator
    from gan_core.data.types import from_unit_range
    from gan_core.inference import generate
    from gan_core.text_to_image import generate_for_caption, takes_captions

    loaded = load_generator(path)
    if takes_captions(loaded):  # a text-to-image model: eight samples of one fixed sentence, so the encoder counts too
        images = from_unit_range(generate_for_caption(loaded, SAMPLES, seed=0, caption=RECORDED_CAPTION))
        return images.mul(255).round().to(torch.uint8).numpy()
    images = from_unit_range(generate(loaded, SAMPLES, seed=0))
    return images.mul(255).round().to(torch.uint8).numpy()


def main(argv: list[str]) -> int:
    """Record every shipped model, or with `--add NAME ...` only those models, keeping the other rows."""
    sys.path.insert(0, str(ROOT))
    models = {path.stem: path for path in shipped_models()}
    if argv[:1] == ["--add"]:
        unknown = [name for name in argv[1:] if name not in models]
        if unknown:
            print(f"not shipped models: {', '.join(unknown)}", file=sys.stderr)
            return 2
        kept = {name: rows for name, rows in np.load(RECORD).items() if name in models}
        record = {**kept, **{name: draw(models[name]) for name in argv[1:]}}
    else:
        record = {name: draw(path) for name, path in models.items()}
    np.savez_compressed(RECORD, **record)
    print(f"recorded {len(record)} models in {RECORD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
