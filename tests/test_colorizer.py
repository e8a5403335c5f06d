"""pix2pix colourisation that keeps the input's lightness: Lab conversions, the wrapper, training, translation."""

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import lab2rgb, rgb2lab

from gan_core.checkpoints import load_generator
from gan_core.data.paired import make_paired_dataset
from gan_core.errors import ConfigError
from gan_core.nets.colorizer import LightnessKeepingColorizer, lab_to_rgb, rgb_to_lab, smooth_chroma
from gan_core.nets.image_to_image import UnetGenerator
from gan_core.registry import config_for, get_variant
from gan_core.training import train
from gan_core.translation import load_translator, translate


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _colours(seed: int = 0) -> torch.Tensor:
    return torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_rgb_to_lab_matches_scikit_image():
    rgb = _colours()
    ours = rgb_to_lab(rgb).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(ours, rgb2lab(rgb.permute(0, 2, 3, 1).numpy()), atol=1e-4)


def test_lab_to_rgb_matches_scikit_image_and_inverts_rgb_to_lab():
    rgb = _colours(1)
    lab = rgb2lab(rgb.permute(0, 2, 3, 1).numpy())
    ours = lab_to_rgb(torch.from_numpy(lab).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(ours, lab2rgb(lab), atol=1e-5)
    torch.testing.assert_close(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-5, rtol=0)


def test_gradients_are_finite_at_black_and_white():
    rgb = torch.tensor([0.0, 1.0]).repeat_interleave(3).reshape(2, 3, 1, 1).requires_grad_()
    lab_to_rgb(rgb_to_lab(rgb)).sum().backward()
    assert torch.isfinite(rgb.grad).all()


def test_the_colorizer_keeps_the_input_lightness_and_only_adds_colour():
    torch.manual_seed(0)
    colorizer = LightnessKeepingColorizer(UnetGenerator(1, 2, 5, 4, "batch")).eval()
    grey = torch.linspace(0.3, 0.7, 32 * 32).reshape(1, 1, 32, 32).expand(1, 3, 32, 32)
    with torch.no_grad():
        output = (colorizer(grey * 2 - 1) + 1) / 2
    in_gamut = ((output > 0) & (output < 1)).all(1)  # clipped colours may lose lightness, the rest must not
    assert in_gamut.float().mean() > 0.5
    lightness_in, lightness_out = rgb_to_lab(grey.double())[:, 0], rgb_to_lab(output.double())[:, 0]
    torch.testing.assert_close(lightness_out[in_gamut], lightness_in[in_gamut], atol=1e-3, rtol=0)
    assert (output.max(1).values - output.min(1).values).mean() > 0.01, "an untrained U-Net still adds colour"


def test_smoothed_chroma_is_one_colour_per_block_before_upsampling_and_keeps_flat_colour():
    chroma = torch.randn(2, 2, 37, 50, generator=torch.Generator().manual_seed(0))
    assert smooth_chroma(chroma, 1) is chroma
    smooth = smooth_chroma(chroma, 4)
    assert smooth.shape == chroma.shape  # ragged sizes too
    assert smooth.diff(dim=-1).abs().mean() < chroma.diff(dim=-1).abs().mean() / 4, "the noise is averaged away"
    flat = torch.full((1, 2, 9, 9), 0.3)
    torch.testing.assert_close(smooth_chroma(flat, 4), flat)


def test_chroma_downsample_smooths_the_colour_but_not_the_lightness():
    torch.manual_seed(0)
    unet = UnetGenerator(1, 2, 5, 4, "batch").eval()
    grey = torch.linspace(0.3, 0.7, 32 * 32).reshape(1, 1, 32, 32).expand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        sharp, smooth = (LightnessKeepingColorizer(unet, k)(grey) for k in (1, 8))
    chroma_sharp, chroma_smooth = rgb_to_lab((sharp + 1) / 2)[:, 1:], rgb_to_lab((smooth + 1) / 2)[:, 1:]
    assert chroma_smooth.diff(dim=-1).abs().mean() < chroma_sharp.diff(dim=-1).abs().mean() / 2
    torch.testing.assert_close(rgb_to_lab((smooth + 1) / 2)[:, 0], rgb_to_lab((grey + 1) / 2)[:, 0], atol=0.5, rtol=0)


def test_chroma_downsample_without_kept_lightness_is_refused_before_a_job_starts():
    with pytest.raises(ConfigError, match="chroma_downsample.*needs keep_lightness"):
        config_for("pix2pix", chroma_downsample=4)  # the form and the CLI validate through the same call
    assert config_for("pix2pix", chroma_downsample=4, keep_lightness=True).chroma_downsample == 4


def test_the_colorizer_needs_rgb_pictures():
    config = config_for("pix2pix", image_size=32, width=8, keep_lightness=True)
    with pytest.raises(ConfigError, match="keep_lightness"):
        get_variant("pix2pix").model_class(config, (1, 32, 32), 0)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_pix2pix_trains_with_kept_lightness_and_reloads_and_translates(precision, tmp_path):
    generator = torch.Generator().manual_seed(0)
    colour = torch.randint(0, 256, (8, 3, 36, 36), dtype=torch.uint8, generator=generator)
    grey = colour.float().mean(1, keepdim=True).round().to(torch.uint8).expand_as(colour)
    pairs = make_paired_dataset("tiny", grey, colour, grey[:2, :, :32, :32], colour[:2, :, :32, :32], 32, aligned=True)
    config = config_for("pix2pix", steps=2, image_size=32, width=8, batch_size=2, device="cpu", log_every=1,
                        sample_every=1000, checkpoint_every=1000, seed=3, keep_lightness=True, chroma_downsample=4,
                        precision=precision)
    result = train(config, tmp_path, dataset=pairs)
    assert result.status == "finished", result.message

    loaded = load_generator(tmp_path / "generator.safetensors")
    assert loaded.config.keep_lightness and isinstance(loaded.generator, LightnessKeepingColorizer)
    assert loaded.generator.unet.model.model[0].in_channels == 1, "the U-Net sees the lightness only"
    assert loaded.generator.chroma_downsample == 4, "the checkpoint's config rebuilds the chroma resolution"

    translator = load_translator(tmp_path / "generator.safetensors")
    assert (translator.arch.kind, translator.arch.input_nc, translator.arch.output_nc) == ("unet", 3, 3)
    picture = Image.fromarray(np.tile(np.linspace(60, 200, 48, dtype=np.uint8), (40, 1)), "L").convert("RGB")
    output = translate(translator, picture).output
    assert output.size == picture.size
    lightness_in = rgb2lab(np.asarray(picture) / 255.0)[..., 0]
    lightness_out = rgb2lab(np.asarray(output) / 255.0)[..., 0]
    assert np.abs(lightness_out - lightness_in).mean() < 2.0, "the picture keeps its lightness"


def test_a_small_colouring_enlarged_keeps_the_big_pictures_lightness_and_takes_its_colour():
    from gan_core.nets.colorizer import with_lightness_of

    picture = torch.rand(1, 3, 40, 60, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 0.6 + 0.2
    coloured = torch.tensor([0.7, 0.45, 0.3], dtype=torch.float64).reshape(1, 3, 1, 1).expand(1, 3, 10, 15)
    result = rgb_to_lab(with_lightness_of(picture, coloured))
    assert result.shape == (1, 3, 40, 60)
    torch.testing.assert_close(result[:, 0], rgb_to_lab(picture)[:, 0], atol=0.5, rtol=0)  # every edge kept
    wanted = rgb_to_lab(coloured)[0, 1:, 0, 0]
    assert (result[0, 1:].mean((1, 2)) - wanted).abs().max() < 1.5, "the small picture's colour, enlarged"


def test_a_colouriser_colours_a_large_picture_at_its_training_scale_and_says_so(tmp_path):
    from conftest import save_untrained_translator

    colouriser = load_translator(save_untrained_translator(tmp_path, "pix2pix", "gray2color"))
    assert colouriser.colour_side == 96, "3 × its image size: the scale of the embedded task's training crops"
    sketcher = load_translator(save_untrained_translator(tmp_path, "pix2pix", "photo2sketch_paired"))
    assert sketcher.colour_side is None, "a sketcher draws at full size"

    stripes = np.zeros((150, 200, 3), np.uint8)
    stripes[:, ::4] = 230  # one-pixel detail that a 96-px working size could not keep by itself
    large = translate(colouriser, Image.fromarray(stripes))
    assert large.output.size == (200, 150) and "computed at 96 px" in large.prepared
    lightness_in = rgb2lab(np.asarray(large.source) / 255.0)[..., 0]
    lightness_out = rgb2lab(np.asarray(large.output) / 255.0)[..., 0]
    assert np.abs(lightness_out - lightness_in).mean() < 2.0, "the lightness is the picture's own, stripes included"
    small = translate(colouriser, Image.fromarray(stripes[:60, :80]))
    assert "computed at" not in small.prepared, "a picture within the working size is coloured as it is"


def test_the_mean_colour_baseline_keeps_each_lightness_and_paints_one_colour():
    from benchmarks.translation_quality import with_mean_chroma

    targets = torch.tensor([[0.6, 0.4, 0.3], [0.5, 0.45, 0.25]]).reshape(2, 3, 1, 1).expand(2, 3, 4, 4) * 2 - 1
    inputs = torch.linspace(0.3, 0.7, 16).reshape(1, 1, 4, 4).expand(2, 3, 4, 4) * 2 - 1
    painted = rgb_to_lab((with_mean_chroma(inputs, targets) + 1) / 2)
    torch.testing.assert_close(painted[:, 0], rgb_to_lab((inputs + 1) / 2)[:, 0], atol=0.05, rtol=0)
    wanted = rgb_to_lab((targets + 1) / 2)[:, 1:].mean((0, 2, 3))
    assert (painted[:, 1:].mean((0, 2, 3)) - wanted).abs().max() < 1.0
    assert wanted.abs().min() > 5, "the targets are colourful, so a grey result would fail the line above"


def test_gray2color_makes_pix2pix_keep_the_lightness_unless_the_user_says_otherwise():
    assert config_for("pix2pix", dataset="gray2color").keep_lightness
    assert config_for("pix2pix", dataset="gray2color").chroma_downsample == 16, "chosen on validation photos"
    assert not config_for("pix2pix", dataset="gray2color", keep_lightness=False, chroma_downsample=1).keep_lightness
    with pytest.raises(ConfigError, match="set chroma_downsample to 1"):  # the task's k = 16 needs the colouriser
        config_for("pix2pix", dataset="gray2color", keep_lightness=False)
    assert not config_for("pix2pix").keep_lightness, "the default task, photo → sketch, is not colourisation"
    assert not config_for("cyclegan", dataset="gray2color").keep_lightness, "only pix2pix has the colouriser"


def test_an_official_colorization_generator_colours_a_picture_and_keeps_its_lightness():
    import io

    from gan_core.translation import load_official_translator

    torch.manual_seed(1)
    buffer = io.BytesIO()
    torch.save(UnetGenerator(1, 2, 5, 4, "batch").state_dict(), buffer)  # what `--model colorization` saves
    translator = load_official_translator(buffer.getvalue(), "latest_net_G.pth")
    assert "colorization" in translator.title and translator.arch.input_nc == translator.arch.output_nc == 3
    picture = Image.fromarray(np.tile(np.linspace(70, 190, 64, dtype=np.uint8), (32, 1)), "L")
    output = np.asarray(translate(translator, picture).output) / 255.0
    lightness_in = rgb2lab(np.asarray(picture.convert("RGB")) / 255.0)[..., 0]
    assert np.abs(rgb2lab(output)[..., 0] - lightness_in).mean() < 2.0
    assert np.ptp(output, axis=2).mean() > 0.005, "the untrained colorizer still adds some colour"
