"""Which trained generators can drive which page, and the finished pictures pages show of them.

Shipped models come first, then finished runs; a foreign or half-written file is simply not offered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image

from gan_core.app.deployment import checkpoints_dir, runs_dir
from gan_core.app.jobs import job_manager
from gan_core.checkpoints import LoadedGenerator, load_generator, read_metadata
from gan_core.config import TrainConfig, saved_config_from_dict
from gan_core.errors import CheckpointError, GanStudioError
from gan_core.grids import png_bytes, to_pil, with_labels
from gan_core.inference import check_truncation, generate, generate_from_latent, interpolate_noise, traversal_latents
from gan_core.registry import VariantSpec, get_variant
from gan_core.translation import example_picture, load_translator, translate


@dataclass(frozen=True)
class ModelChoice:
    """A generator a page can load: a shipped checkpoint or a finished run's."""

    label: str
    path: Path
    variant: str
    modified: float  # file time, so a cache notices a replaced file


def _choice(path: Path, label: str) -> ModelChoice | None:
    """The file as a choice labelled with how long it trained and on what, so a user can tell a
    long-trained model from a quick test run without opening the file."""
    try:
        metadata = read_metadata(path)
        variant = metadata["variant"]
        get_variant(variant)
    except (CheckpointError, KeyError, Exception):  # a foreign or half-written file is simply not offered
        return None
    return ModelChoice(f"{label}{_training_note(metadata)}", path, variant, path.stat().st_mtime)


def _training_note(metadata: dict) -> str:
    """' · 10,000 steps on mnist_5k' from a checkpoint's metadata; empty where it does not say."""
    try:
        steps = f"{int(metadata['step']):,} steps"
    except (KeyError, TypeError, ValueError):
        return ""
    dataset = metadata.get("dataset")
    return f" · {steps} on {dataset}" if dataset else f" · {steps}"


def available_models(accepts: Callable[[VariantSpec], bool] = lambda spec: True) -> list[ModelChoice]:
    """Shipped models first, then finished runs newest first, keeping those whose variant `accepts`."""
    found: list[ModelChoice | None] = []
    shipped = checkpoints_dir()
    if shipped.is_dir():
        found += [_choice(path, f"{path.stem} (shipped)") for path in sorted(shipped.glob("*.safetensors"))]
    if runs_dir().is_dir():
        jobs = job_manager()
        for job in jobs.list_jobs():
            path = jobs.generator_path(job.id)
            if job.status == "finished" and path is not None:
                found.append(_choice(path, f"{job.name} · {job.id} (trained here)"))
    return [choice for choice in found if choice is not None and accepts(get_variant(choice.variant))]


def models_with_codes() -> list[ModelChoice]:
    return available_models(lambda spec: spec.has_codes)


def conditional_models() -> list[ModelChoice]:
    """Conditional generators, those trained on their variant's default data first (so the page opens on a
    real-MNIST model, not on acgan-digits, whose 8×8 digits shown at 32 px look blurred beside them); otherwise
    in `available_models`' order."""
    choices = available_models(lambda spec: spec.conditional)
    return sorted(choices, key=lambda choice: not _on_default_data(choice))


def _on_default_data(choice: ModelChoice) -> bool:
    return _dataset_of(choice.path) == get_variant(choice.variant).default_config().dataset


def shipped_model(variant: str) -> Path | None:
    """The shipped checkpoint of `variant` (checkpoints/<variant>-*.safetensors), if there is one.

    One trained on the variant's default data set comes first, as a new user's Train form starts with it
    (pix2pix: the sketch task; cgan: mnist_5k, not the 8×8 digits). The data set is read from each file's
    metadata, since file names shorten it (cgan-mnist holds mnist_5k). Among those the plainest name wins
    (seqgan-oracle before seqgan-oracle-mle-only); without one, the first file by name.
    """
    matches = sorted(checkpoints_dir().glob(f"{variant}-*.safetensors"))
    default = get_variant(variant).default_config().dataset
    on_default = [path for path in matches if _dataset_of(path) == default]
    if on_default:
        return min(on_default, key=lambda path: (len(path.name), path.name))
    return matches[0] if matches else None


@dataclass(frozen=True)
class ShippedRecipe:
    """The settings a shipped model was trained with, read from its checkpoint, for the Train form to start from."""

    name: str  # the file's stem, e.g. stylegan-mnist
    config: TrainConfig

    # Where and how often a run reports and saves: they do not change the model it trains.
    RUN_ONLY = ("device", "refresh_seconds", "data_root", "log_every", "sample_every", "checkpoint_every")

    def settings_beyond(self, defaults: TrainConfig) -> list[str]:
        """The settings, by name, in which the shipped run differs from `defaults` (a variant's own settings, kept
        in `extra`, by their own names), leaving out `RUN_ONLY`: empty for a model shipped with the defaults."""
        def flat(config: TrainConfig) -> dict:
            return {**{key: value for key, value in asdict(config).items() if key != "extra"}, **config.extra}

        shipped, form = flat(self.config), flat(defaults)
        return sorted(name for name in shipped.keys() | form.keys()
                      if name not in self.RUN_ONLY and shipped.get(name) != form.get(name))

    def note(self, default_steps: int) -> str:
        """How far the shipped model trained and, where that is beyond the form's default steps, that the
        defaults are a quicker first run: a user expecting the Home card's pictures needs to know the gap."""
        trained = f"The shipped {self.name} trained {self.config.steps:,} steps on {self.config.dataset}"
        if self.config.steps <= default_steps:
            return f"{trained}."
        return f"{trained}; the form's default of {default_steps:,} steps makes a quicker first run."


def shipped_recipe(variant: str) -> ShippedRecipe | None:
    """The recipe of `variant`'s shipped model (the one `shipped_model` picks), or None without a readable one."""
    path = shipped_model(variant)
    if path is None:
        return None
    try:
        config = saved_config_from_dict(json.loads(read_metadata(path)["config"]))
    except (CheckpointError, KeyError, TypeError, ValueError, GanStudioError):
        return None
    return ShippedRecipe(path.stem, config)


def _dataset_of(path: Path) -> str | None:
    """The data set a checkpoint was trained on, or None for a file that is not a readable checkpoint."""
    try:
        return read_metadata(path).get("dataset")
    except CheckpointError:
        return None


def load_model(path: str, modified: float = 0.0) -> LoadedGenerator:
    """Load a generator on the CPU; `modified` is only there to key a cache."""
    return load_generator(Path(path))


# --- pictures ---------------------------------------------------------------------------
def sample_png(model: LoadedGenerator, n: int, seed: int, columns: int, scale: int = 2, **choices) -> bytes:
    """PNG bytes of `n` samples (choices: labels=, category=, continuous=)."""
    return png_bytes(to_pil(generate(model, n, seed, **choices), columns=columns, scale=scale))


def traversal_png(model: LoadedGenerator, seed: int, code_index: int, values: Sequence[float],
                  base_continuous: Sequence[float] | None = None, scale: int = 2,
                  row_labels: Sequence[str] | None = None) -> bytes:
    """Rows are categorical values, columns sweep one continuous code; both axes labelled in the picture."""
    latents = traversal_latents(model.layout, seed, code_index, values, base_continuous)
    grid = to_pil(generate_from_latent(model, latents), columns=len(values), scale=scale)
    rows = list(row_labels) if row_labels is not None else [f"category {value}" for value in range(model.layout.categorical)]
    return png_bytes(with_labels(grid, rows, [f"{value:+.1f}" for value in values]))


def interpolation_png(model: LoadedGenerator, seed_a: int, seed_b: int, steps: int, label_a: int | None = None,
                      label_b: int | None = None, scale: int = 2, truncation: float | None = None) -> bytes:
    """PNG bytes of the walk from seed A to seed B; with `truncation` both ends are drawn truncated, as the
    label rows beside it are."""
    check_truncation(model, truncation)
    latents = interpolate_noise(model.layout, seed_a, seed_b, steps, label_a, label_b, truncation)
    return png_bytes(to_pil(generate_from_latent(model, latents), columns=steps, scale=scale))


def translation_preview_png(path: Path, max_side: int = 192) -> bytes:
    """PNG bytes of a translator's work on the embedded example photo: input, output (and the way back)."""
    translation = translate(load_translator(path), example_picture(), max_side=max_side)
    pictures = [translation.source, translation.output]
    if translation.reconstruction is not None:
        pictures.append(translation.reconstruction)
    return png_bytes(side_by_side(pictures))


def side_by_side(pictures: Sequence[Image.Image], gap: int = 4) -> Image.Image:
    """One RGB picture with `pictures` in a row on white, top-aligned."""
    width = sum(picture.width for picture in pictures) + gap * (len(pictures) - 1)
    row = Image.new("RGB", (width, max(picture.height for picture in pictures)), "white")
    left = 0
    for picture in pictures:
        row.paste(picture.convert("RGB"), (left, 0))
        left += picture.width + gap
    return row
