"""Every variant by name: how to build it, the settings it reads, what it draws and where it is shown.

The trainer, the job manager, the CLI and the pages learn about variants only from here. A variant is
one module under `gan_core.variants` (in the sub-package of its kind) that defines `SPEC`; it is found
automatically.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from gan_core.config import ALWAYS_READ, BASICS, FIELD_RULES, LOGGING, FieldRule, SettingGroup, TrainConfig, checked_value
from gan_core.errors import ConfigError, UnknownVariantError
from gan_core.samples import IMAGE_GRID, SampleKind

if TYPE_CHECKING:
    from gan_core.variants.base import GanModel

DataKind = Literal["images", "image_pairs", "aligned_image_pairs", "ratings", "token_sequences"]
"""What a variant trains on: single images, two image domains, two domains whose pictures pair up, users'
ratings of items, or sequences of discrete tokens."""
IMAGE_DATA = ("images", "image_pairs", "aligned_image_pairs")
# What one example of each kind of data is, for speeds: the trainer counts a batch's examples per second.
EXAMPLES = {"images": "images", "image_pairs": "image pairs", "aligned_image_pairs": "image pairs", "ratings": "users",
            "token_sequences": "sequences"}


@dataclass(frozen=True)
class VariantSpec:
    """What the rest of GAN Studio needs to know about one variant."""

    name: str
    title: str
    summary: str
    objective: str  # the paper's objective as a LaTeX formula
    paper: str
    model_class: type[GanModel]
    settings: tuple[SettingGroup, ...]  # the fields it reads beyond Basics and Logging, grouped for the form
    defaults: dict[str, Any] = field(default_factory=dict)
    # Settings of its own, beyond TrainConfig's fields: name → rule with its default. Their values live in
    # `TrainConfig.extra`; a group in `settings` names each, so the form, the CLI and validation know them.
    own_settings: dict[str, FieldRule] = field(default_factory=dict)
    sample_kind: SampleKind = IMAGE_GRID
    data: DataKind = "images"
    conditional: bool = False  # the generator takes a class label
    has_codes: bool = False  # InfoGAN-style latent codes
    page: str = "/train"  # the page that shows a trained model best
    discriminator: str = "discriminator"  # what its paper calls the second player ("critic" for WGANs), for charts
    preview_columns: tuple[str, ...] = ()  # what each column of its preview grid shows, where the columns differ
    # It may train as several processes (torchrun; `gan_core.training.distributed`). A variant whose step cannot
    # be split over ranks sets False and says why in `single_process_reason`; the form and CLI then refuse >1.
    distributed: bool = True
    single_process_reason: str = ""
    basics: SettingGroup = BASICS  # a variant that is not about images leaves out image_size (and precision)

    @property
    def setting_groups(self) -> tuple[SettingGroup, ...]:
        """Every group the Train form shows for this variant, in order."""
        return (self.basics, *self.settings, LOGGING)

    @property
    def reads(self) -> frozenset[str]:
        """Every config field this variant reads."""
        return frozenset(ALWAYS_READ).union(*(group.fields for group in self.setting_groups))

    @property
    def image_to_image(self) -> bool:
        """It translates pictures (trains on two domains) instead of sampling noise."""
        return self.data in ("image_pairs", "aligned_image_pairs")

    @property
    def trains_on_images(self) -> bool:
        """Its data are pictures (single or paired), so image sizes and image datasets apply."""
        return self.data in IMAGE_DATA

    @property
    def examples(self) -> str:
        """What its batches are made of ("images", "users", ...): the unit of its training speed."""
        return EXAMPLES[self.data]

    def rule(self, name: str) -> FieldRule:
        """The rule of a setting this variant reads: a config field's, or one of its own."""
        return self.own_settings[name] if name in self.own_settings else FIELD_RULES[name]

    def value(self, config: TrainConfig, name: str) -> Any:
        """A setting's value in `config`: a field, or one of this variant's own settings (with its default)."""
        if name in self.own_settings:
            return config.extra.get(name, self.own_settings[name].default)
        return getattr(config, name)

    def check_reads(self, names: Any) -> None:
        """Refuse settings this variant does not read: a value that would be silently ignored is a user's mistake."""
        unread = sorted(set(names) - self.reads)
        if unread:
            raise ConfigError(f"{self.name} does not read {', '.join(unread)}; its settings are: "
                              f"{', '.join(sorted(self.reads - set(ALWAYS_READ) - {'variant'}))}")

    def default_config(self, **overrides: Any) -> TrainConfig:
        """The config a user starts from: generic defaults, then this variant's, then its dataset's, then theirs.

        A dataset's layer is what an embedded task trains best with (gray2color: pix2pix keeps the lightness).
        `overrides` may only name fields this variant reads.
        """
        dataset = overrides.get("dataset", self.defaults.get("dataset", TrainConfig.dataset))
        own = {name: rule.default for name, rule in self.own_settings.items()}
        base = TrainConfig(**{**self.defaults, **self.dataset_defaults(dataset), "dataset": dataset, "variant": self.name,
                              "extra": {**own, **self.defaults.get("extra", {})}})
        return self.with_settings(base, **overrides)

    def with_settings(self, config: TrainConfig, **settings: Any) -> TrainConfig:
        """`config` with `settings` applied: fields by name, this variant's own settings into `extra`, each checked.

        Every way a user sets something (the Train form, the CLI's flags and `--config` file, a resumed run's new
        steps) comes through here, so a setting this variant does not read is refused with its name.
        """
        self.check_reads(settings)
        own = {name: checked_value(name, self.own_settings[name], value)
               for name, value in settings.items() if name in self.own_settings}
        fields = {name: value for name, value in settings.items() if name not in self.own_settings}
        extra = {**config.extra, **fields.pop("extra", {}), **own}
        return TrainConfig(**{**{f: getattr(config, f) for f in config.__dataclass_fields__}, **fields, "extra": extra,
                              "variant": self.name})

    def dataset_defaults(self, dataset: str) -> dict[str, Any]:
        """The settings `dataset` suggests for this variant, on top of the variant's own defaults."""
        from gan_core.data.embedded_tasks import task_config_defaults

        return task_config_defaults(dataset, self.name)

    def datasets(self) -> dict[str, str]:
        """Name → description of the datasets this variant can train on."""
        from gan_core.data.catalogue import describe_datasets

        if not self.trains_on_images:
            return describe_datasets(kind=self.data)
        return describe_datasets(pairs=self.image_to_image, aligned=self.data == "aligned_image_pairs")


@cache
def _discover() -> dict[str, VariantSpec]:
    import gan_core.variants as package

    specs: dict[str, VariantSpec] = {}
    for module_info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        module = importlib.import_module(module_info.name)
        spec = getattr(module, "SPEC", None)
        if isinstance(spec, VariantSpec):
            specs[spec.name] = spec
    return dict(sorted(specs.items(), key=lambda item: (_ORDER.get(item[0], len(_ORDER)), item[0])))


_ORDER = {name: i for i, name in enumerate(
    ["gan", "dcgan", "cgan", "acgan", "infogan", "wgan", "wgan_gp", "lsgan", "pix2pix", "cyclegan"])}
"""Teaching order: the papers' order of ideas. Variants not listed follow, by name."""


def variants() -> dict[str, VariantSpec]:
    """All registered variants, in teaching order."""
    return _discover()


def get_variant(name: str) -> VariantSpec:
    specs = _discover()
    if name not in specs:
        raise UnknownVariantError(f"unknown variant {name!r}; choose one of: {', '.join(specs)}")
    return specs[name]


def config_for(variant: str, **overrides: Any) -> TrainConfig:
    """Shortcut: the validated default config of `variant` with `overrides` applied."""
    return get_variant(variant).default_config(**overrides)
