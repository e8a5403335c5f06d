"""pix2pix and CycleGAN: data layouts, batches, training, checkpoints and exact resume."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.checkpoints import load_generator
from gan_core.data.catalogue import load_dataset
from gan_core.data.paired import PairBatchSource, load_translation_folder, make_paired_dataset, random_crop_flip
from gan_core.errors import DatasetUnavailableError
from gan_core.registry import config_for, get_variant
from gan_core.training import train
from gan_core.training.run_files import RunFiles

torch.set_num_threads(1)

VARIANTS = ["pix2pix", "cyclegan"]


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    yield


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture
def aligned_folder(tmp_path):
    """train/ with A|B images: A is a colour square, B its negative, so each pair is checkable."""
    rng = np.random.default_rng(0)
    root = tmp_path / "facades_like"
    for split, count in (("train", 4), ("test", 2)):
        for i in range(count):
            a = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
            _write(root / split / f"{i}.png", np.concatenate([a, 255 - a], axis=1))
    (root / "train" / "notes.txt").write_text("not an image")
    return root


@pytest.fixture
def unpaired_folder(tmp_path):
    root = tmp_path / "horse2zebra_like"
    for folder, value, count in (("trainA", 30, 3), ("trainB", 220, 5), ("testA", 30, 1), ("testB", 220, 1)):
        for i in range(count):
            _write(root / folder / f"{i}.jpg", np.full((36, 48, 3), value, dtype=np.uint8))
    return root


@pytest.fixture(scope="module")
def tiny_pairs():
    """A 32×32 aligned dataset (B = negative of A) small enough for a step in well under a second."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randint(0, 256, (8, 3, 36, 36), dtype=torch.uint8, generator=generator)
    return make_paired_dataset("tiny", a, 255 - a, a[:2, :, :32, :32], 255 - a[:2, :, :32, :32], 32, aligned=True)


def tiny_config(variant, steps, **overrides):
    values = dict(steps=steps, image_size=32, width=8, batch_size=2, device="cpu", log_every=1,
                  sample_every=1000, checkpoint_every=1000, seed=3, extra={"n_blocks": 1})
    values.update(overrides)
    return config_for(variant, **values)


def test_aligned_layout_splits_a_left_b_right(aligned_folder):
    dataset = load_translation_folder(32, str(aligned_folder))
    assert dataset.aligned and dataset.image_shape == (3, 32, 32)
    assert dataset.images.shape[0] == 4 and dataset.test_images.shape[0] == 2
    total = dataset.images.int() + dataset.targets.int()
    assert (total - 255).abs().float().mean() < 3, "B is the negative of A, pair by pair"


def test_a_folder_larger_than_the_memory_budget_is_read_in_part_and_says_so(aligned_folder, unpaired_folder,
                                                                             monkeypatch):
    from gan_core.data import paired

    monkeypatch.setattr(paired, "TRAIN_BUDGET_BYTES", 3 * 3 * 36 * 36)  # three 36×36 images (32 px is stored at 36)
    whole_budget = load_translation_folder(32, str(aligned_folder))
    assert whole_budget.images.shape[0] == 3 and whole_budget.targets.shape[0] == 3
    assert "the first 3 of 4 training images by name" in whole_budget.description
    assert whole_budget.test_images.shape[0] == 2, "held-out images are not part of the training budget"
    unpaired = load_translation_folder(32, str(unpaired_folder))
    assert (unpaired.images.shape[0], unpaired.targets.shape[0]) == (3, 3)
    assert "the first 6 of 8 training images" in unpaired.description
    monkeypatch.setattr(paired, "TRAIN_BUDGET_BYTES", 10**9)
    assert "first" not in load_translation_folder(32, str(aligned_folder)).description


def test_unpaired_layout_reads_four_folders(unpaired_folder):
    dataset = load_translation_folder(16, str(unpaired_folder))
    assert not dataset.aligned
    assert dataset.images.shape[0] == 3 and dataset.targets.shape[0] == 5
    assert dataset.test_images.shape == (1, 3, 16, 16) and dataset.test_targets.shape == (1, 3, 16, 16)
    assert int(dataset.images.float().mean()) == 30 and int(dataset.targets.float().mean()) == 220


def test_folder_without_a_layout_says_what_is_expected(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="trainA"):
        load_translation_folder(32, str(tmp_path))


def test_aligned_batches_share_crop_and_flip(tiny_pairs):
    torch.manual_seed(0)
    a, b = PairBatchSource(tiny_pairs, 16, torch.device("cpu"), aligned=True)()
    assert a.shape == b.shape == (16, 3, 32, 32)
    torch.testing.assert_close(a + b, torch.zeros_like(a), atol=1e-5, rtol=0)


def test_crop_and_flip_are_one_gather():
    images = torch.arange(2 * 1 * 4 * 4).reshape(2, 1, 4, 4)
    out = random_crop_flip(images, 2, torch.tensor([0, 2]), torch.tensor([1, 0]), torch.tensor([False, True]))
    assert torch.equal(out[0, 0], images[0, 0, 0:2, 1:3])
    assert torch.equal(out[1, 0], images[1, 0, 2:4, 0:2].flip(-1))


def test_pix2pix_refuses_unpaired_data(unpaired_folder):
    dataset = load_translation_folder(16, str(unpaired_folder))
    with pytest.raises(DatasetUnavailableError, match="aligned"):
        PairBatchSource(dataset, 2, torch.device("cpu"), aligned=True)


def test_embedded_task_is_registered_and_holds_out_a_photo():
    dataset = load_dataset("photo2sketch_paired", 32)
    assert dataset.aligned and dataset.image_shape == (3, 32, 32)
    assert dataset.test_images.shape[0] > 0 and "pencil sketch" in dataset.synthesised
    assert not torch.equal(dataset.images[:, 0], dataset.images[:, 1]), "domain A is the colour photo"
    assert torch.equal(dataset.targets[:, 0], dataset.targets[:, 1]), "sketches are gray"
    assert dataset.targets.float().mean() > 180, "domain B is mostly paper white"
    assert dataset.images.float().mean() < dataset.targets.float().mean()


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_trains_with_finite_losses_and_round_trips(variant, tiny_pairs, tmp_path):
    assert get_variant(variant).image_to_image
    result = train(tiny_config(variant, 2), tmp_path, dataset=tiny_pairs)
    assert result.status == "finished", result.message
    rows = list(RunFiles(tmp_path).read_metrics())
    assert [row["step"] for row in rows] == [1, 2]
    for row in rows:
        assert all(math.isfinite(value) for value in row.values()), row
    names = {"pix2pix": {"G_GAN", "G_L1", "D_real", "D_fake"},
             "cyclegan": {"D_A", "G_A", "cycle_A", "idt_A", "D_B", "G_B", "cycle_B", "idt_B"}}[variant]
    assert names <= set(rows[-1])
    loaded = load_generator(tmp_path / "generator.safetensors")
    assert loaded.variant == variant and loaded.layout is None and loaded.step == 2
    model = get_variant(variant).model_class(tiny_config(variant, 2), (3, 32, 32), 0)
    reference = model.generator.state_dict()
    assert set(loaded.generator.state_dict()) == set(reference)
    if variant == "cyclegan":
        assert {"a_to_b", "b_to_a"} == set(dict(loaded.generator.named_children()))
    assert RunFiles(tmp_path).sample_paths(), "a preview grid is written"


@pytest.mark.parametrize("variant", VARIANTS)
def test_resume_continues_as_if_never_stopped(variant, tiny_pairs, tmp_path):
    straight = train(tiny_config(variant, 2), tmp_path / "straight", dataset=tiny_pairs)
    train(tiny_config(variant, 1), tmp_path / "split", dataset=tiny_pairs)
    resumed = train(tiny_config(variant, 2), tmp_path / "split", dataset=tiny_pairs, resume=True)
    assert straight.status == resumed.status == "finished"
    a = torch.load(tmp_path / "straight" / "resume.pt", weights_only=True)
    b = torch.load(tmp_path / "split" / "resume.pt", weights_only=True)
    assert a["step"] == b["step"] == 2
    for key, value in a["model"].items():
        if isinstance(value, torch.Tensor):
            torch.testing.assert_close(b["model"][key], value, rtol=1e-5, atol=1e-5, msg=key)
        else:
            assert repr(b["model"][key]) == repr(value), key
    for name, state in a["optimizers"].items():
        assert [g["lr"] for g in state["param_groups"]] == [g["lr"] for g in b["optimizers"][name]["param_groups"]]


def test_cyclegan_pool_and_learning_rate_schedule_are_in_the_resume_state(tiny_pairs, tmp_path):
    config = tiny_config("cyclegan", 2)
    train(config, tmp_path, dataset=tiny_pairs)
    state = torch.load(tmp_path / "resume.pt", weights_only=True)
    assert state["model"]["pool_a._extra_state"]["images"].shape == (4, 3, 32, 32), "2 steps × batch 2 fakes pooled"
    rates = [group["lr"] for group in state["optimizers"]["generator"]["param_groups"]]
    assert rates == [pytest.approx(config.lr_g / 2)], "official linear policy: the second of 2 steps runs at half rate"


def test_translate_cli_uses_our_cyclegan_checkpoint_both_ways(tiny_pairs, tmp_path, capsys):
    from PIL import Image

    from gan_core.cli import main

    train(tiny_config("cyclegan", 1), tmp_path / "run", dataset=tiny_pairs)
    Image.new("RGB", (40, 24), (200, 40, 90)).save(tmp_path / "in.png")
    outputs = {}
    for direction in ("AtoB", "BtoA"):
        out = tmp_path / f"{direction}.png"
        assert main(["translate", "--checkpoint", str(tmp_path / "run" / "generator.safetensors"),
                     "--input", str(tmp_path / "in.png"), "--out", str(out), "--direction", direction]) == 0
        outputs[direction] = np.asarray(Image.open(out))
        assert outputs[direction].shape == (24, 40, 3)
    assert not np.array_equal(outputs["AtoB"], outputs["BtoA"]), "each direction has its own generator"
    capsys.readouterr()


def test_translate_cli_refuses_bto_a_for_a_one_way_model(tiny_pairs, tmp_path, capsys):
    from PIL import Image

    from gan_core.cli import main

    train(tiny_config("pix2pix", 1), tmp_path / "run", dataset=tiny_pairs)
    Image.new("RGB", (32, 32)).save(tmp_path / "in.png")
    assert main(["translate", "--checkpoint", str(tmp_path / "run" / "generator.safetensors"),
                 "--input", str(tmp_path / "in.png"), "--out", str(tmp_path / "o.png"), "--direction", "BtoA"]) == 2
    assert "direction must be one of AtoB" in capsys.readouterr().err


@pytest.mark.parametrize("variant", ["pix2pix", "cyclegan"])
def test_translators_start_from_the_official_normal_initialisation(variant):
    from gan_core.registry import get_variant

    model = get_variant(variant).model_class(tiny_config(variant, 1), (3, 32, 32), 0)
    convolutions = [p for p in model.parameters() if p.dim() == 4 and p.numel() >= 1000]
    assert convolutions and all(float(p.detach().std()) == pytest.approx(0.02, rel=0.15) for p in convolutions)


def test_cyclegan_trains_without_an_image_pool(tiny_pairs, tmp_path):
    """pool_size 0 used to hand D the fakes still attached to G's freed graph ("backward through the graph a
    second time")."""
    config = tiny_config("cyclegan", 2).replace(extra={"n_blocks": 1, "pool_size": 0})
    result = train(config, tmp_path, dataset=tiny_pairs)
    assert result.status == "finished", result.message
    state = torch.load(tmp_path / "resume.pt", weights_only=True)
    assert state["model"]["pool_a._extra_state"]["images"].numel() == 0


def test_pix2pix_test_time_dropout_is_an_option_decided_by_its_seed(tmp_path):
    """The paper keeps dropout on at test time as noise; we offer it, seeded, and default to off."""
    from conftest import save_untrained_translator

    from gan_core.translation import example_picture, load_translator, translate

    translator = load_translator(save_untrained_translator(tmp_path, "pix2pix", "photo2sketch_paired", size=64))
    assert translator.has_dropout
    picture = example_picture()

    def pixels(seed):
        return np.asarray(translate(translator, picture, max_side=64, dropout_seed=seed).output, dtype=np.int16)

    assert np.array_equal(pixels(None), pixels(None))
    assert np.array_equal(pixels(1), pixels(1))
    assert not np.array_equal(pixels(1), pixels(2))
    assert not np.array_equal(pixels(None), pixels(1))
    cyclegan = load_translator(save_untrained_translator(tmp_path, "cyclegan", "photo2sketch"))
    assert not cyclegan.has_dropout


def test_translate_cli_refuses_a_dropout_seed_for_a_generator_without_dropout(tmp_path, capsys):
    from conftest import save_untrained_translator

    from gan_core.cli import main
    from gan_core.translation import example_picture

    example_picture().save(tmp_path / "in.png")
    path = save_untrained_translator(tmp_path, "cyclegan", "photo2sketch")
    assert main(["translate", "--checkpoint", str(path), "--input", str(tmp_path / "in.png"), "--out",
                 str(tmp_path / "out.png"), "--dropout-seed", "3"]) == 2
    assert "needs a generator with dropout" in capsys.readouterr().err


def test_sample_cli_sends_a_translator_to_translate(tmp_path, capsys):
    """`sample` writes what a checkpoint's kind of sample is; a translator's needs a picture."""
    from conftest import save_untrained_translator

    from gan_core.cli import main

    path = save_untrained_translator(tmp_path, "pix2pix", "photo2sketch_paired")
    assert main(["sample", "--checkpoint", str(path), "--out", str(tmp_path / "x.png")]) == 2
    assert "use `translate` with a picture instead" in capsys.readouterr().err
