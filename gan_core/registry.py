"""Every variant by name: how to build it, its defaults and what it can do.

The trainer, the job manager, the CLI and the pages learn about variants only from here. A variant is
one module in `gan_core.variants` that defines `SPEC`; it is found automatically.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from gan_core.config import TrainConfig, validate_config
from gan_core.errors import UnknownVariantError

if TYPE_CHECKING:
    from gan_core.variants.base import GanModel


@dataclass(frozen=True)
class VariantSpec:
    """What the rest of GAN Studio needs to know about one variant."""

    name: str
    title: str
    summary: str
    objective: str  # the paper's objective as a LaTeX formula
    paper: str
    model_class: type[GanModel]
    defaults: dict[str, Any] = field(default_factory=dict)
    conditional: bool = False  # the generator takes a class label
    has_codes: bool = False  # InfoGAN-style latent codes
    classifier_head: bool = False  # D also predicts the class (ACGAN): class_weight, fake_class_loss apply
    image_to_image: bool = False  # translates images instead of sampling noise
    translation_fields: tuple[str, ...] = ()  # config fields of a translator's own objective, for forms
    page: str = "/train"  # the page that shows a trained model best

    def default_config(self, **overrides: Any) -> TrainConfig:
        """The config a user starts from: generic defaults, then this variant's, then its dataset's, then theirs.

        A dataset's layer is what an embedded task trains best with (gray2color: pix2pix keeps the lightness).
        """
        dataset = overrides.get("dataset", self.defaults.get("dataset", TrainConfig.dataset))
        values = {**self.defaults, **self.dataset_defaults(dataset), **overrides, "variant": self.name}
        return validate_config(TrainConfig(**values))

    def dataset_defaults(self, dataset: str) -> dict[str, Any]:
        """The settings `dataset` suggests for this variant, on top of the variant's own defaults."""
        from gan_core.data.embedded_tasks import task_config_defaults

        return task_config_defaults(dataset, self.name)


@cache
def _discover() -> dict[str, VariantSpec]:
    import gan_core.variants as package

    specs: dict[str, VariantSpec] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        spec = getattr(module, "SPEC", None)
        if isinstance(spec, VariantSpec):
            specs[spec.name] = spec
    return dict(sorted(specs.items(), key=lambda item: _ORDER.get(item[0], 99)))


_ORDER = {name: i for i, name in enumerate(
    ["gan", "dcgan", "cgan", "acgan", "infogan", "wgan", "wgan_gp", "lsgan", "pix2pix", "cyclegan"])}


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


def merge_user_config(config: TrainConfig, user_values: dict[str, Any]) -> TrainConfig:
    """Apply user-set fields on top of a variant's defaults and validate the result."""
    return validate_config(dataclasses.replace(config, **user_values))
