"""Differentiable augmentation (gan_core.augment) and the `augment` setting of the variants that declare it."""

from __future__ import annotations

import pytest
import torch
from stopping import assert_resume_is_exact

from gan_core.augment import TRANSLATION_FILL, augment, cutout, translate
from gan_core.errors import ConfigError
from gan_core.registry import config_for
from gan_core.variants.images.adversarial import AdversarialImageGan


def a_square_on_black(batch: int = 64, side: int = 16) -> torch.Tensor:
    images = torch.full((batch, 1, side, side), -1.0)
    images[:, :, 6:10, 6:10] = 1.0
    return images


def test_translation_moves_each_image_by_whole_pixels_within_an_eighth_of_the_side_and_fills_black():
    torch.manual_seed(0)
    images = a_square_on_black()
    moved = translate(images)
    shifts = set()
    for before, after in zip(images, moved):
        ink_rows, ink_cols = (after[0] == 1.0).nonzero(as_tuple=True)
        assert len(ink_rows) == 16, "a shift of at most 2 pixels keeps the whole 4×4 square inside"
        dy, dx = int(ink_rows.min()) - 6, int(ink_cols.min()) - 6
        assert abs(dy) <= 2 and abs(dx) <= 2, "1/8 of 16 pixels"
        torch.testing.assert_close(after, torch.roll(before, (dy, dx), dims=(1, 2)))  # black rolls in as black
        shifts.add((dy, dx))
    assert len(shifts) > 10, "each image draws its own shift"
    assert set(moved.unique().tolist()) == {TRANSLATION_FILL, 1.0}


def test_translation_fills_what_comes_in_from_outside_with_black():
    torch.manual_seed(1)
    moved = translate(torch.ones(32, 1, 16, 16))
    assert (moved == TRANSLATION_FILL).any() and ((moved == TRANSLATION_FILL) | (moved == 1.0)).all()


def test_cutout_sets_one_square_of_half_the_side_to_gray_and_keeps_the_rest():
    torch.manual_seed(2)
    cut = cutout(torch.ones(256, 1, 16, 16))
    holes = (cut == 0).sum(dim=(1, 2, 3))
    assert int(holes.max()) == 64, "8×8 where the square lies wholly inside"
    assert int(holes.min()) >= 16, "at least a quarter of it where its centre is at a corner"
    assert ((cut == 0) | (cut == 1)).all()
    for image in cut[:16]:
        rows, cols = (image[0] == 0).nonzero(as_tuple=True)
        assert len(rows) == (int(rows.max()) - int(rows.min()) + 1) * (int(cols.max()) - int(cols.min()) + 1), "a rectangle"


def test_none_is_the_identity_and_gradients_pass_through_the_others():
    images = torch.randn(4, 1, 16, 16, requires_grad=True)
    assert augment(images, "none") is images
    augment(images, "translation,cutout").pow(2).sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_the_discriminator_sees_real_and_fake_augmented_only_when_asked(digits16):
    config = config_for("biggan", image_size=16, width=8, batch_size=8, noise_dim=12, device="cpu", ema_decay=0.0,
                        steps=1, augment="translation")
    model = AdversarialImageGan.__new__(AdversarialImageGan)
    model.config = config
    images = a_square_on_black(8)
    torch.manual_seed(3)
    assert not torch.equal(model.seen_by_discriminator(images), images)
    model.config = config.replace(extra={**config.extra, "augment": "none"})
    assert torch.equal(model.seen_by_discriminator(images), images)


def test_an_unknown_policy_and_a_variant_without_the_setting_are_refused():
    with pytest.raises(ConfigError, match="(?i)augment must be one of"):
        config_for("biggan", augment="flip")
    with pytest.raises(ConfigError, match="does not read"):
        config_for("wgan_gp", augment="translation")


def test_biggan_with_augmentation_resumes_exactly(tmp_path, digits16):
    config = config_for("biggan", image_size=16, width=8, batch_size=16, noise_dim=12, device="cpu", ema_decay=0.0,
                        log_every=1, sample_every=1000, checkpoint_every=1000, seed=3, steps=4,
                        augment="translation,cutout")
    assert_resume_is_exact(config, tmp_path, digits16, stop_at=2)
