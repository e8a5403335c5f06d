"""Training configuration: plain data with defaults, validated once, when it is built.

A `TrainConfig` is built in three layers: the generic defaults below, then the variant's own
defaults from the registry, then whatever the user set. It is frozen and checks itself on
construction, so a config that exists is valid: it travels from the page, the CLI or a JSON file to
the job store and the worker without being checked again. Validation names the field and its
allowed range, so the CLI, the app and config files all give the same message.

Which fields a variant reads is the variant's business (`VariantSpec.settings`, grouped as the Train
form shows them); the groups every variant reads are here.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

from gan_core.device import DEVICE_CHOICES, PRECISION_CHOICES
from gan_core.errors import ConfigError

OBJECTIVES = ("minimax", "nonsaturating", "least_squares", "wasserstein", "hinge")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what a training run does. JSON-serialisable; valid by construction."""

    variant: str = "dcgan"
    dataset: str = "mnist_5k"
    data_root: str | None = None
    image_size: int = 32
    steps: int = 2000
    batch_size: int = 64
    seed: int = 0
    device: str = "auto"
    # Arithmetic of the training step: "fp32", "bf16" (autocast: convolutions and matrix products in
    # bfloat16, losses, weights and optimizer state in float32), or "auto" (bf16 where the device has
    # native bfloat16 arithmetic, see `gan_core.device.has_native_bfloat16`; fp32 elsewhere). auto is the
    # default: the same scores as fp32 in fewer seconds where it changes anything (BENCHMARKS.md).
    precision: str = "auto"
    # Optimisation. `optimizer` is "adam" or "rmsprop"; lr_d differs from lr_g for TTUR.
    optimizer: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    n_critic: int = 1
    # Both learning rates stay constant for this fraction of the steps, then fall linearly towards 0
    # (CycleGAN's official "linear" policy is 0.5); 1.0 keeps them constant throughout.
    lr_decay_start: float = 1.0
    # Objective and stability options.
    objective: str = "nonsaturating"
    label_smoothing: float = 0.0
    spectral_norm: bool = False
    weight_clip: float = 0.0
    gp_weight: float = 0.0
    ema_decay: float = 0.0
    # Networks.
    noise_dim: int = 64
    width: int = 32
    # InfoGAN codes and conditional weights.
    categorical_codes: int = 0
    continuous_codes: int = 0
    info_weight: float = 1.0
    class_weight: float = 1.0
    # ACGAN: D's classifier also learns the drawn label of every fake (the paper's L_C for D). False trains
    # it on real images only, so a generated 8 that looks like a 9 is a 9 to it and G is pushed to a real 8.
    fake_class_loss: bool = True
    # Image-to-image weights (pix2pix / CycleGAN).
    l1_weight: float = 100.0
    # pix2pix colourisation: the U-Net predicts only the Lab chroma (a*, b*) from the input's lightness L*, and
    # the output keeps that L* (the official colorization model; see gan_core.nets.colorizer).
    keep_lightness: bool = False
    # With keep_lightness: the chroma is predicted at 1/k of the picture's resolution and upsampled smoothly.
    # Colour detail is what the eye sees least (JPEG halves it), and it is where a colouriser trained on a
    # few photos paints speckles; lightness, and with it every edge, stays at full resolution.
    chroma_downsample: int = 1
    cycle_weight: float = 10.0
    identity_weight: float = 0.5
    # Several processes (torchrun): batch norm over the global batch instead of each process's own (CUDA only).
    sync_batch_norm: bool = False
    # Bookkeeping.
    log_every: int = 10
    sample_every: int = 200
    checkpoint_every: int = 500
    # Also log and redraw the live preview (samples/live.png) at least this often, in seconds, so a
    # dashboard stays fresh whatever the speed; 0 keeps to the step counts above.
    refresh_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, value in _validated_values(self).items():
            object.__setattr__(self, name, value)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class SettingGroup:
    """Config fields a variant reads, under the title the Train form shows them with."""

    title: str
    fields: tuple[str, ...]


ALWAYS_READ = ("variant", "dataset", "data_root", "extra")
"""Fields every variant reads that no form group shows: the form asks for them in its own way."""
BASICS = SettingGroup("Basics", ("steps", "batch_size", "image_size", "seed", "device", "precision", "sync_batch_norm"))
LOGGING = SettingGroup("Logging", ("log_every", "sample_every", "checkpoint_every", "refresh_seconds"))


@dataclass(frozen=True)
class FieldRule:
    """The allowed values of one config field: a numeric range or a set of choices."""

    kind: type
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    help: str = ""
    default: Any = None  # for a variant's own settings (kept in `TrainConfig.extra`); fields have theirs above
    label: str = ""  # what the form calls the field; empty: the name with spaces for underscores

    def describe(self) -> str:
        """The allowed values in words, as a person would say them ("a whole number from 1 to 4,096")."""
        if self.choices is not None:
            return "one of " + ", ".join(self.choices)
        name = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}[self.kind]
        if self.low is not None and self.high is not None:
            return f"{name} from {_fmt(self.low)} to {_fmt(self.high)}"
        return name

    def label_for(self, name: str) -> str:
        return self.label or name.replace("_", " ")


def _fmt(value: float) -> str:
    """10,000,000 rather than 1e+07; small rates stay short (1e-07)."""
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:g}"


def _must_be(name: str, rule: FieldRule, value: Any) -> ConfigError:
    """The one wording of every refused setting, with the field's label as the form shows it."""
    label = rule.label_for(name)
    readable = type(value) is int and abs(value) < 10**15  # thousands separators; a pasted huge number stays short
    shown = "nothing" if value is None else f"{value:,}" if readable else _shown(value)
    return ConfigError(f"{label[:1].upper() + label[1:]} must be {rule.describe()}; got {shown}", field=name)


FIELD_RULES: dict[str, FieldRule] = {
    "variant": FieldRule(str, help="GAN variant from the registry"),
    "dataset": FieldRule(str, help="dataset name"),
    "data_root": FieldRule(str, help="folder for downloaded or user datasets"),
    "image_size": FieldRule(int, 8, 512, help="side of the square training images"),
    "steps": FieldRule(int, 1, 10_000_000, help="generator updates"),
    "batch_size": FieldRule(int, 1, 4096, help="per process: several processes train on batch_size × processes"),
    "seed": FieldRule(int, 0, 2**31 - 1),
    "device": FieldRule(str, choices=DEVICE_CHOICES),
    "precision": FieldRule(str, choices=PRECISION_CHOICES, help="bf16 mixed precision where the device has native "
                           "bfloat16 arithmetic (auto), always, or never (fp32)"),
    "optimizer": FieldRule(str, choices=("adam", "rmsprop")),
    "lr_g": FieldRule(float, 1e-7, 1.0, label="generator learning rate (lr_g)"),
    "lr_d": FieldRule(float, 1e-7, 1.0, label="discriminator learning rate (lr_d)"),
    "beta1": FieldRule(float, 0.0, 0.999),
    "beta2": FieldRule(float, 0.0, 0.9999),
    "n_critic": FieldRule(int, 1, 100, help="discriminator steps per generator step",
                          label="D steps per G step (n_critic)"),
    "lr_decay_start": FieldRule(float, 0.0, 1.0, help="fraction of the steps after which learning rates fall "
                                "linearly to 0; 1 keeps them constant"),
    "objective": FieldRule(str, choices=OBJECTIVES),
    "label_smoothing": FieldRule(float, 0.0, 0.5, help="one-sided: real targets become 1 - value"),
    "spectral_norm": FieldRule(bool),
    "weight_clip": FieldRule(float, 0.0, 10.0, help="0 turns clipping off"),
    "gp_weight": FieldRule(float, 0.0, 1000.0, help="0 turns the gradient penalty off"),
    "ema_decay": FieldRule(float, 0.0, 0.99999, help="0 turns the EMA generator off"),
    "noise_dim": FieldRule(int, 1, 1024),
    "width": FieldRule(int, 4, 512, help="base channel count of the networks"),
    "categorical_codes": FieldRule(int, 0, 100),
    "continuous_codes": FieldRule(int, 0, 16),
    "info_weight": FieldRule(float, 0.0, 100.0),
    "class_weight": FieldRule(float, 0.0, 100.0),
    "fake_class_loss": FieldRule(bool, help="ACGAN: D's classifier also learns the labels of fakes (the paper); "
                                 "false: real images only"),
    "l1_weight": FieldRule(float, 0.0, 1000.0, help="pix2pix: weight of the L1 distance to the target"),
    "keep_lightness": FieldRule(bool, help="pix2pix: predict only the colour (Lab a*, b*) and keep the input's "
                                "lightness, for colourisation tasks such as gray2color"),
    "chroma_downsample": FieldRule(int, 1, 32, help="pix2pix with keep lightness: predict the colour "
                                   "at 1/k resolution and upsample it smoothly (1: full resolution)"),
    "cycle_weight": FieldRule(float, 0.0, 1000.0, help="CycleGAN: weight of each cycle-consistency L1 term"),
    "identity_weight": FieldRule(float, 0.0, 10.0, help="CycleGAN: identity loss, as a fraction of the cycle weight"),
    "sync_batch_norm": FieldRule(bool, help="with several GPU processes: batch-norm statistics over the global "
                                 "batch (SyncBatchNorm); off: each process's own batch, as one GPU would"),
    "log_every": FieldRule(int, 1, 100_000),
    "sample_every": FieldRule(int, 1, 10_000_000),
    "checkpoint_every": FieldRule(int, 1, 10_000_000),
    "refresh_seconds": FieldRule(float, 0.0, 3600.0, help="also log and redraw the live preview at least this "
                                 "often; 0 = by step counts only"),
}


def _shown(value: Any) -> str:
    """The offending value for a message, short: repr of a huge int raises, and a pasted megabyte helps no one."""
    try:
        text = repr(value)
    except ValueError:
        return f"a {type(value).__name__} too long to show"
    return text if len(text) <= 80 else text[:77] + "..."


def _coerce(name: str, rule: FieldRule, value: Any) -> Any:
    """Convert strings from forms and the CLI to the field's type, or raise a ConfigError."""
    if value is None:
        if name == "data_root":
            return None
        raise _must_be(name, rule, None)
    try:
        if rule.kind is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "1", "yes", "false", "0", "no"):
                return value.lower() in ("true", "1", "yes")
            raise ValueError
        if rule.kind is int:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError
                return int(value)
            return int(value)
        if rule.kind is float:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            return number
        return str(value)
    except (TypeError, ValueError, OverflowError):  # float(10**400) overflows rather than failing as a value
        raise _must_be(name, rule, value) from None


def checked_value(name: str, rule: FieldRule, value: Any) -> Any:
    """`value` coerced to the rule's type and inside its range or choices, or a ConfigError naming `name`."""
    value = _coerce(name, rule, value)
    if value is None:
        return None
    if rule.choices is not None and value not in rule.choices:
        raise _must_be(name, rule, value)
    if rule.low is not None and not (rule.low <= value <= rule.high):
        raise _must_be(name, rule, value)
    return value


def _validated_values(config: TrainConfig) -> dict[str, Any]:
    """Every field coerced to its type, or a ConfigError naming the first bad field."""
    values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    for name, rule in FIELD_RULES.items():
        values[name] = checked_value(name, rule, values[name])
    if not isinstance(values["extra"], dict):
        raise ConfigError("extra must be a mapping of option names to values")
    values["extra"] = dict(values["extra"])  # a frozen config shares no mutable state with its caller
    if values["chroma_downsample"] != 1 and not values["keep_lightness"]:
        raise ConfigError("chroma_downsample sets the resolution of the predicted colour, so it needs keep_lightness; "
                          "turn keep lightness on or set chroma_downsample to 1")
    return values


def config_from_dict(data: dict[str, Any]) -> TrainConfig:
    """Build a config from user data (a JSON file, a form), rejecting unknown field names."""
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown config field(s): {', '.join(unknown)}; known fields: {', '.join(sorted(known))}")
    return TrainConfig(**data)


# Fields added after runs were first saved, with the value every run saved before them had: a run folder,
# job or checkpoint from then resumes and reloads exactly as it ran, not with today's default.
VALUES_BEFORE_FIELD_EXISTED: dict[str, Any] = {"precision": "fp32"}


def saved_config_from_dict(data: dict[str, Any]) -> TrainConfig:
    """`config_from_dict` for a config GAN Studio wrote itself (config.json, a job, a checkpoint's metadata)."""
    return config_from_dict({**VALUES_BEFORE_FIELD_EXISTED, **data})
