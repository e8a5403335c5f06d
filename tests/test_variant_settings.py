"""A variant owns its settings: the Train form, the CLI flags and validation all follow from its spec.

Includes the maintainer's check of issue #17: a toy variant with a setting of its own, in a module of its own,
is discovered and shows up everywhere without touching any other file.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import gan_core.variants
from gan_core import registry
from gan_core.cli import main
from gan_core.config import ALWAYS_READ
from gan_core.errors import ConfigError
from gan_core.registry import config_for, get_variant, variants

APP = str(Path(__file__).resolve().parents[1] / "app.py")

TOY_MODULE = '''
"""A toy variant for the tests: DCGAN with one setting of its own."""
from gan_core.config import FieldRule, SettingGroup
from gan_core.registry import VariantSpec
from gan_core.variants.images.adversarial import NETWORKS, OPTIMISER, objective_group
from gan_core.variants.images.dcgan import DCGAN


class ToyGan(DCGAN):
    """Reads `wobble` from its config's extra settings."""


SPEC = VariantSpec(
    name="toygan", title="ToyGAN", summary="A test variant.", objective="x", paper="none",
    model_class=ToyGan,
    settings=(OPTIMISER, objective_group(), NETWORKS, SettingGroup("Toy", ("wobble",))),
    own_settings={"wobble": FieldRule(int, 1, 9, default=3, help="how much the toy wobbles")},
)
'''


@pytest.fixture
def toy_variant(tmp_path, monkeypatch):
    """gan_core.variants with one more module, found by discovery as a new file in the package would be."""
    extra = tmp_path / "more_variants"
    extra.mkdir()
    (extra / "toygan.py").write_text(textwrap.dedent(TOY_MODULE))
    monkeypatch.setattr(gan_core.variants, "__path__", [*gan_core.variants.__path__, str(extra)])
    registry._discover.cache_clear()
    yield get_variant("toygan")
    registry._discover.cache_clear()


def test_a_new_variant_with_its_own_setting_is_discovered_and_validated(toy_variant):
    assert "toygan" in variants()
    assert toy_variant.value(config_for("toygan"), "wobble") == 3
    assert config_for("toygan", wobble="7").extra["wobble"] == 7
    with pytest.raises(ConfigError, match=r"Wobble must be a whole number from 1 to 9; got 12"):
        config_for("toygan", wobble=12)
    with pytest.raises(ConfigError, match="dcgan does not read wobble"):
        config_for("dcgan", wobble=5)


def test_a_new_variants_setting_is_a_cli_flag(toy_variant, capsys, tmp_path):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "--wobble" in capsys.readouterr().out
    assert main(["train", "--variant", "toygan", "--wobble", "0", "--out", str(tmp_path / "run")]) == 2
    assert "Wobble must be a whole number from 1 to 9; got 0" in capsys.readouterr().err
    assert main(["train", "--variant", "dcgan", "--wobble", "4", "--out", str(tmp_path / "run")]) == 2
    assert "dcgan does not read wobble" in capsys.readouterr().err


def test_a_new_variants_setting_is_in_the_train_form(toy_variant, monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/train.py")
    at.run()
    at.selectbox(key="variant").select("toygan").run()
    assert not at.exception, at.exception
    assert at.number_input(key="toygan.wobble").value == 3
    assert "Toy" in [expander.label for expander in at.expander]


def form_fields(at: AppTest, variant: str) -> set[str]:
    """The settings the Train form offers for `variant` (widget keys are '<variant>[.<dataset>].<field>')."""
    widgets = [*at.number_input, *at.text_input, *at.selectbox, *at.checkbox]
    return {widget.key.rsplit(".", 1)[1] for widget in widgets
            if widget.key and widget.key.startswith(f"{variant}.")}


def test_the_train_form_shows_exactly_the_settings_each_variant_reads(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/train.py")
    at.run()
    for name, spec in variants().items():
        at.selectbox(key="variant").select(name).run()
        assert not at.exception, (name, at.exception)
        assert form_fields(at, name) == set(spec.reads) - set(ALWAYS_READ) - {"variant"}, name
    assert "weight_clip" not in form_fields(at.selectbox(key="variant").select("dcgan").run(), "dcgan")
    assert "weight_clip" in form_fields(at.selectbox(key="variant").select("wgan").run(), "wgan")


@pytest.mark.parametrize("variant, flag, value", [
    ("dcgan", "--weight-clip", "0.01"),  # only WGAN clips
    ("wgan_gp", "--weight-clip", "0.01"),
    ("pix2pix", "--objective", "hinge"),  # the paper's log loss is fixed
    ("cyclegan", "--spectral-norm", "true"),
    ("dcgan", "--l1-weight", "10"),
    ("dcgan", "--gp-weight", "10"),  # its critic has batch norm
])
def test_a_flag_the_variant_does_not_read_exits_2_naming_it(variant, flag, value, tmp_path, capsys):
    assert main(["train", "--variant", variant, flag, value, "--out", str(tmp_path / "run")]) == 2
    name = flag.removeprefix("--").replace("-", "_")
    assert f"{variant} does not read {name}" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_every_variant_default_is_a_setting_it_reads():
    for spec in variants().values():
        assert set(spec.defaults) <= spec.reads, spec.name
        assert set(spec.own_settings) <= spec.reads, f"{spec.name}: each own setting is in a form group"


def test_a_resumed_run_takes_only_settings_its_variant_reads(tmp_path, capsys, digits16):
    from gan_core.training import train

    config = config_for("dcgan", steps=1, width=8, noise_dim=8, image_size=16, batch_size=8, device="cpu")
    train(config, tmp_path / "run", dataset=digits16)
    assert main(["train", "--resume", str(tmp_path / "run"), "--cycle-weight", "3"]) == 2
    assert "dcgan does not read cycle_weight" in capsys.readouterr().err


def test_a_config_is_validated_once_when_built_and_cannot_change_afterwards():
    config = config_for("dcgan", steps="12")
    assert config.steps == 12
    with pytest.raises(AttributeError):
        config.steps = 5  # frozen: what was validated is what trains
    with pytest.raises(ConfigError, match="Steps must be"):
        config.replace(steps=0)
