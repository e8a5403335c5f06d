"""SimGAN: the font renderer, the refiner and its losses, the history buffer, training phases, checkpoints, resume."""

import math
import re
import warnings
from pathlib import Path

import pytest
import torch

from gan_core.checkpoints import load_generator
from gan_core.data import synthetic_digits
from gan_core.data.catalogue import dataset_entry
from gan_core.data.paired import PairedDataset
from gan_core.data.synthetic_digits import (
    FIELD_CENTRE,
    HANDWRITING_FONT_PACKAGES,
    DigitStyles,
    Renderer,
    _thickened,
    centre_of_mass,
    font_sources,
    ink_extent,
    simulator_fonts,
    stroke_width,
)
from gan_core.data.types import to_unit_range
from gan_core.errors import DatasetUnavailableError
from gan_core.nets.simgan import LocalDiscriminator, Refiner
from gan_core.refine import RefinedBatch
from gan_core.registry import config_for, get_variant
from gan_core.training import train
from gan_core.training.run_files import RunFiles
from gan_core.variants.translation.simgan import HistoryBuffer, self_regularisation


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="module")
def renderer():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # symbol-only fonts are skipped with a warning
        return Renderer()


@pytest.fixture(scope="module")
def tiny_domains(renderer):
    """Synthetic digits against a stand-in 'real' domain (thickened copies of other synthetic digits)."""
    synthetic, labels = renderer.sample(32, seed=0)
    real, _ = renderer.sample(32, seed=1)
    real = torch.nn.functional.max_pool2d(real.float(), 3, 1, 1).to(torch.uint8)
    return PairedDataset(name="tiny_synthetic", images=synthetic, labels=labels, class_names=[str(d) for d in range(10)],
                         test_images=synthetic[:4], test_labels=labels[:4], targets=real, test_targets=real[:4],
                         aligned=False, crop_size=28)


def tiny_config(steps, refiner_pretrain=1, discriminator_pretrain=1):
    return config_for("simgan", steps=steps, batch_size=4, width=4, refiner_blocks=1, discriminator_width=4, history_size=6,
                      refiner_pretrain_steps=refiner_pretrain, discriminator_pretrain_steps=discriminator_pretrain,
                      log_every=1, sample_every=100, checkpoint_every=100, device="cpu")


# --- the renderer ------------------------------------------------------------------------
def test_every_digit_renders_in_every_font_with_its_own_shape(renderer):
    assert len(renderer.fonts) >= 10, renderer.fonts
    for font in range(len(renderer.fonts)):
        styles = DigitStyles.fixed(0, font, count=10)
        styles.digit = torch.arange(10)
        images = renderer.render(styles)
        assert images.shape == (10, 1, 28, 28) and images.dtype == torch.uint8
        assert (images.flatten(1).amax(1) == 255).all(), f"{renderer.fonts[font]}: every digit has full ink"
        flat = images.flatten(1).float()
        assert (torch.cdist(flat, flat) + torch.eye(10) * 1e9).min() > 100, f"{renderer.fonts[font]}: digits differ"


def test_rendering_is_deterministic_by_seed(renderer):
    first, labels = renderer.sample(200, seed=5)
    again, labels_again = renderer.sample(200, seed=5)
    other, _ = renderer.sample(200, seed=6)
    assert torch.equal(first, again) and torch.equal(labels, labels_again)
    assert not torch.equal(first, other)
    assert set(labels.tolist()) == set(range(10))


def test_digits_are_centred_the_mnist_way(renderer):
    images = renderer.render(DigitStyles.fixed(3, 0, rotation=10.0, shear=0.2, count=4))
    centres = centre_of_mass(images)
    torch.testing.assert_close(centres, torch.full_like(centres, FIELD_CENTRE), atol=0.35, rtol=0)
    assert (ink_extent(images) - 20).abs().max() <= 1.5, "the longer side fills the 20-px box"
    random, _ = renderer.sample(500, seed=0)
    centres = centre_of_mass(random)
    assert (centres - FIELD_CENTRE).abs().max() < 1.7, "random offsets stay within about a pixel"
    assert (centres.mean(0) - FIELD_CENTRE).abs().max() < 0.2
    corners = torch.cat([random[..., :2, :].flatten(1), random[..., -2:, :].flatten(1)], 1)
    assert corners.float().mean() < 2.0, "a margin of background around the box, as in MNIST"


def test_stroke_width_follows_the_style(renderer):
    thin = renderer.render(DigitStyles.fixed(8, 0, stroke=2.0, count=1))[:, 0].float() / 255
    thick = renderer.render(DigitStyles.fixed(8, 0, stroke=3.8, count=1))[:, 0].float() / 255
    assert stroke_width(thick) > stroke_width(thin) + 0.8


def test_wheel_fonts_alone_leave_out_the_system_folders():
    bundled = font_sources(system=False)
    assert bundled and all(not str(path).startswith("/usr/share/fonts") for _, path in bundled)
    assert {name for name, _ in bundled} <= {name for name, _ in font_sources()}


def test_a_font_that_fails_to_load_is_skipped_with_a_warning(tmp_path):
    broken = tmp_path / "Broken.ttf"
    broken.write_bytes(b"not a font at all")
    good = next(source for source in font_sources() if source[0] == "DejaVuSans")
    with pytest.warns(UserWarning, match="Broken"):
        renderer = Renderer(sources=[("Broken", broken), good])
    assert renderer.fonts == ("DejaVuSans",)
    with pytest.warns(UserWarning), pytest.raises(DatasetUnavailableError, match="no usable font"):
        Renderer(sources=[("Broken", broken)])


def test_hairline_strokes_survive_the_thinnest_level():
    """Light cuts (Comic Neue Light) have strokes one bank pixel wide: eroding them would leave blank digits."""
    hairline, wide = torch.zeros(1, 9, 9), torch.zeros(1, 9, 9)
    hairline[0, :, 4] = 1.0
    wide[0, :, 3:6] = 1.0
    assert torch.equal(_thickened(hairline, -1), hairline)
    thinned = _thickened(wide, -1)
    assert 0 < thinned.sum() < wide.sum() and thinned[0, 4, 4] == 1.0


def test_system_fonts_include_opentype_files(tmp_path, monkeypatch):
    (tmp_path / "Hand.otf").write_bytes(b"")
    (tmp_path / "notes.txt").write_bytes(b"")
    monkeypatch.setattr(synthetic_digits, "SYSTEM_FONT_DIRS", (tmp_path,))
    names = [name for name, _ in font_sources()]
    assert "Hand" in names and "notes" not in names


def test_the_simulator_draws_handwriting_fonts_when_installed_and_says_when_not(monkeypatch):
    printed = font_sources(system=False)
    handwriting = ("Humor-Sans", Path("/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf"))
    monkeypatch.setattr(synthetic_digits, "font_sources", lambda system=True: printed + [handwriting])
    assert simulator_fonts() == [handwriting]
    monkeypatch.setattr(synthetic_digits, "font_sources", lambda system=True: printed)
    with pytest.warns(UserWarning, match="install-fonts.sh"):
        assert simulator_fonts() == printed


def test_the_install_script_installs_exactly_the_handwriting_packages():
    script = (Path(__file__).resolve().parents[1] / "scripts" / "install-fonts.sh").read_text()
    listed = re.search(r"packages=\((.*?)\)", script, re.S).group(1).split()
    assert listed == list(HANDWRITING_FONT_PACKAGES)


def test_synthetic_digits_is_an_unpaired_catalogue_entry():
    entry = dataset_entry("synthetic_digits")
    assert entry.pairs and entry.aligned is False and entry.source == "embedded"
    assert "synthetic_digits" in get_variant("simgan").datasets()


# --- networks and losses -----------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 1, 28, 28), (2, 1, 32, 32), (1, 3, 20, 36)])
def test_refiner_keeps_the_input_shape_and_range(shape):
    refiner = Refiner(shape[1], width=8, blocks=2)
    images = torch.rand(shape) * 2 - 1
    refined = refiner(images)
    assert refined.shape == images.shape and refined.abs().max() <= 1


def test_discriminator_scores_a_map_of_patches():
    scores = LocalDiscriminator(1, width=8)(torch.zeros(2, 1, 28, 28))
    assert scores.shape == (2, 1, 7, 7)


def test_self_regularisation_is_zero_for_the_identity_and_sums_pixels():
    images = torch.rand(4, 1, 28, 28)
    assert self_regularisation(images, images) == 0
    assert self_regularisation(images + 0.5, images) == pytest.approx(0.5 * 28 * 28)


def test_blurred_self_regularisation_charges_moved_ink_less_than_changed_ink():
    """With ψ a box blur, nudging a stroke by a pixel costs less than in pixels, and adding ink still costs."""
    synthetic = torch.zeros(1, 1, 28, 28)
    synthetic[..., 8:20, 13] = 1.0
    nudged = torch.roll(synthetic, shifts=1, dims=3)
    assert self_regularisation(synthetic, synthetic, blur=1) == 0
    assert self_regularisation(nudged, synthetic, blur=1) < 0.5 * self_regularisation(nudged, synthetic)
    thicker = synthetic.clone()
    thicker[..., 8:20, 14] = 1.0
    assert self_regularisation(thicker, synthetic, blur=1) == pytest.approx(12.0, rel=0.2)


def test_history_buffer_fills_then_serves_half_of_each_batch():
    buffer = HistoryBuffer(capacity=6, image_shape=(1, 2, 2))
    first = torch.full((4, 1, 2, 2), 1.0)
    assert torch.equal(buffer.mix(first), first), "an empty buffer has nothing to mix in"
    buffer.push(first)
    assert int(buffer.filled) == 2, "half of each batch is stored"
    second = torch.full((4, 1, 2, 2), 2.0)
    mixed = buffer.mix(second)
    assert mixed.shape == second.shape
    assert torch.equal(mixed[:2], second[:2]) and (mixed[2:] == 1.0).all(), "second half: past refined images"
    buffer.push(second)
    buffer.push(torch.full((4, 1, 2, 2), 3.0))
    assert int(buffer.filled) == 6
    buffer.push(torch.full((4, 1, 2, 2), 4.0))
    assert int(buffer.filled) == 6 and (buffer.images == 4.0).flatten(1).all(1).sum() == 2, "full: random slots replaced"
    assert torch.equal(HistoryBuffer(0, (1, 2, 2)).mix(second), second)


def test_difference_of_an_unchanged_batch_is_black():
    synthetic = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8)
    batch = RefinedBatch(synthetic, torch.zeros(2, dtype=torch.int64), to_unit_range(synthetic))
    assert batch.mean_l1() == pytest.approx(0.0, abs=1e-6)
    assert (batch.difference == -1).all()


# --- training --------------------------------------------------------------------------------
def test_the_three_phases_train_with_finite_losses_and_round_trip(tiny_domains, tmp_path):
    result = train(tiny_config(4), tmp_path, dataset=tiny_domains)
    assert result.status == "finished", result.message
    rows = list(RunFiles(tmp_path).read_metrics())
    assert [row["phase"] for row in rows] == [0, 1, 2, 2], "R alone, then D alone, then the game"
    for row in rows:
        assert all(math.isfinite(value) for value in row.values()), row
    assert rows[0]["self_regularisation"] > 0 and rows[0]["D_real"] == 0
    assert rows[1]["D_real"] > 0 and rows[1]["grad_norm_R"] == 0
    assert rows[3]["R_adversarial"] > 0 and rows[3]["D_refined"] > 0
    state = torch.load(tmp_path / "resume.pt", weights_only=True)
    assert int(state["model"]["history.filled"]) == 6, "3 D updates × half of a batch of 4, capped at 6"
    loaded = load_generator(tmp_path / "generator.safetensors")
    assert loaded.variant == "simgan" and loaded.step == 4
    model = get_variant("simgan").model_class(tiny_config(4), (1, 28, 28), 10)
    model.load_state_dict(state["model"])
    synthetic = to_unit_range(tiny_domains.test_images)
    with torch.no_grad():
        torch.testing.assert_close(loaded.generator(synthetic), model.generator(synthetic))
    assert RunFiles(tmp_path).sample_paths(), "a synthetic → refined preview is written"


def test_resume_continues_as_if_never_stopped(tiny_domains, tmp_path):
    straight = train(tiny_config(5), tmp_path / "straight", dataset=tiny_domains)
    train(tiny_config(2), tmp_path / "split", dataset=tiny_domains)
    resumed = train(tiny_config(5), tmp_path / "split", dataset=tiny_domains, resume=True)
    assert straight.status == resumed.status == "finished"
    a = torch.load(tmp_path / "straight" / "resume.pt", weights_only=True)
    b = torch.load(tmp_path / "split" / "resume.pt", weights_only=True)
    assert a["step"] == b["step"] == 5
    for key, value in a["model"].items():
        torch.testing.assert_close(b["model"][key], value, rtol=1e-5, atol=1e-5, msg=key)
    assert int(a["model"]["history.filled"]) > 0
