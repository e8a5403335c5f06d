"""The official CycleGAN/pix2pix networks: exact state_dict layout, reference outputs, safe import."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from gan_core.cli import main
from gan_core.errors import CheckpointError
from gan_core.nets.image_to_image import GeneratorArch, NLayerDiscriminator, ResnetGenerator, UnetGenerator
from gan_core.official import load_official_generator
from gan_core.translation import translate_image

REFERENCE = Path("/work/shared/reference")
KEY_LISTS = REFERENCE / "cyclegan_pix2pix_state_dicts.txt"
TEST_VECTORS = REFERENCE / "cyclegan_pix2pix_test_vectors.safetensors"

pytestmark = pytest.mark.skipif(not KEY_LISTS.is_file(), reason="reference files not available")


def parse_key_lists(text: str) -> dict[str, list[tuple[str, tuple[int, ...]]]]:
    """Header line (without its comment) → [(key, shape), ...] in file order."""
    sections: dict[str, list[tuple[str, tuple[int, ...]]]] = {}
    current: list[tuple[str, tuple[int, ...]]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].split("#")[0].strip(), [])
        elif line.strip():
            key, shape = line.split("\t")
            current.append((key, tuple(ast.literal_eval(shape))))
    return sections


def build_from_header(header: str) -> torch.nn.Module:
    """ResnetGenerator(3,3,ngf=64,norm=instance,no dropout,n_blocks=9) → our network, on the meta device."""
    match = re.fullmatch(r"(\w+)\((.*)\)", header)
    assert match, header
    kind, arguments = match.groups()
    positional: list[int] = []
    named: dict[str, object] = {}
    for argument in arguments.split(","):
        argument = argument.strip()
        if "=" in argument:
            key, value = argument.split("=")
            named[key] = int(value) if value.isdigit() else value
        elif argument in ("dropout", "no dropout"):
            named["dropout"] = argument == "dropout"
        else:
            positional.append(int(argument))
    network_class = {
        "ResnetGenerator": ResnetGenerator, "UnetGenerator": UnetGenerator, "NLayerDiscriminator": NLayerDiscriminator,
    }[kind]
    with torch.device("meta"):  # shapes only: no memory, no initialisation cost for the 54M-value U-Net
        return network_class(*positional, **named)


@pytest.fixture(autouse=True)
def _one_thread():
    """These networks are tiny: on a shared 2-core machine thread hand-offs cost more than the maths."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


SECTIONS = parse_key_lists(KEY_LISTS.read_text()) if KEY_LISTS.is_file() else {}


@pytest.mark.parametrize("header", list(SECTIONS))
def test_state_dict_layout_matches_the_official_networks(header):
    network = build_from_header(header)
    ours = [(key, tuple(value.shape)) for key, value in network.state_dict().items()]
    assert ours == SECTIONS[header]


@pytest.fixture(scope="module")
def vectors():
    return load_file(str(TEST_VECTORS))


def weights_of(vectors, config):
    prefix = f"{config}/weights/"
    return {key[len(prefix):]: value for key, value in vectors.items() if key.startswith(prefix)}


@pytest.mark.parametrize(
    ("config", "network", "train_mode"),
    [
        ("resnet_ngf8_2blocks_instance", lambda: ResnetGenerator(3, 3, ngf=8, norm="instance", n_blocks=2), False),
        ("unet_5downs_ngf8_batch_trainmode", lambda: UnetGenerator(3, 3, num_downs=5, ngf=8, norm="batch"), True),
        (
            "nlayer_in6_ndf8_3layers_batch_evalmode",
            lambda: NLayerDiscriminator(6, ndf=8, n_layers=3, norm="batch"),
            False,
        ),
    ],
)
def test_reproduces_reference_outputs(vectors, config, network, train_mode):
    model = network()
    model.load_state_dict(weights_of(vectors, config), strict=True)
    model.train(train_mode)
    with torch.no_grad():
        output = model(vectors[f"{config}/input"])
    torch.testing.assert_close(output, vectors[f"{config}/output"], atol=1e-5, rtol=0)


def test_reference_resnet_file_imports_and_translates_like_the_reference(vectors, tmp_path):
    config = "resnet_ngf8_2blocks_instance"
    path = tmp_path / "latest_net_G.pth"
    torch.save(weights_of(vectors, config), path)
    generator, arch = load_official_generator(path)
    assert arch == GeneratorArch("resnet", ngf=8, norm="instance", input_nc=3, output_nc=3, n_blocks=2)
    with torch.no_grad():
        output = generator(vectors[f"{config}/input"])
    torch.testing.assert_close(output, vectors[f"{config}/output"], atol=1e-5, rtol=0)


def with_stale_instance_statistics(state: dict[str, torch.Tensor], network: torch.nn.Module) -> dict:
    """Add the running statistics old PyTorch versions saved for every InstanceNorm layer."""
    state = dict(state)
    for name, module in network.named_modules():
        if isinstance(module, torch.nn.InstanceNorm2d):
            state[f"{name}.running_mean"] = torch.zeros(module.num_features)
            state[f"{name}.running_var"] = torch.ones(module.num_features)
            state[f"{name}.num_batches_tracked"] = torch.tensor(0)
    return state


IMPORT_CASES = {
    "resnet_9blocks": (
        lambda: ResnetGenerator(3, 3, ngf=4, norm="instance", n_blocks=9),
        GeneratorArch("resnet", ngf=4, norm="instance", input_nc=3, output_nc=3, n_blocks=9),
    ),
    "resnet_6blocks_1to3": (
        lambda: ResnetGenerator(1, 3, ngf=4, norm="instance", n_blocks=6),
        GeneratorArch("resnet", ngf=4, norm="instance", input_nc=1, output_nc=3, n_blocks=6),
    ),
    "resnet_batch_dropout": (
        lambda: ResnetGenerator(3, 3, ngf=4, norm="batch", dropout=True, n_blocks=3),
        GeneratorArch("resnet", ngf=4, norm="batch", input_nc=3, output_nc=3, n_blocks=3, dropout=True),
    ),
    "unet_7downs_batch": (
        lambda: UnetGenerator(3, 3, num_downs=7, ngf=4, norm="batch", dropout=True),
        GeneratorArch("unet", ngf=4, norm="batch", input_nc=3, output_nc=3, num_downs=7),
    ),
    "unet_5downs_instance": (
        lambda: UnetGenerator(3, 2, num_downs=5, ngf=4, norm="instance"),
        GeneratorArch("unet", ngf=4, norm="instance", input_nc=3, output_nc=2, num_downs=5),
    ),
}


@pytest.mark.parametrize("stale", [False, True], ids=["clean", "stale-stats"])
@pytest.mark.parametrize("data_parallel", [False, True], ids=["plain", "module-prefix"])
@pytest.mark.parametrize("case", list(IMPORT_CASES))
def test_load_official_generator_infers_the_architecture(tmp_path, case, stale, data_parallel):
    build, expected = IMPORT_CASES[case]
    torch.manual_seed(0)
    original = build().eval()
    state = original.state_dict()
    if stale:
        state = with_stale_instance_statistics(state, original)
    if data_parallel:
        state = {f"module.{key}": value for key, value in state.items()}
    path = tmp_path / "latest_net_G.pth"
    torch.save(state, path)

    generator, arch = load_official_generator(path)

    assert arch == expected
    assert isinstance(arch.describe(), str) and str(expected.ngf) in arch.describe()
    assert not generator.training
    size = max(arch.size_multiple, 16)  # instance norm needs more than one pixel at the bottleneck
    image = torch.rand(1, expected.input_nc, size, size) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(generator(image), original(image))


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy-format"])
def test_load_official_generator_accepts_bytes_and_old_file_formats(tmp_path, zip_format):
    """Released checkpoints predate PyTorch 1.6's zip format; uploads arrive as bytes."""
    build, expected = IMPORT_CASES["resnet_6blocks_1to3"]
    path = tmp_path / "net.pth"
    torch.save(build().state_dict(), path, _use_new_zipfile_serialization=zip_format)
    _, arch = load_official_generator(path.read_bytes())
    assert arch == expected


class _TouchOnUnpickle:
    """Unpickling this object calls os.open(marker, O_CREAT): a stand-in for arbitrary code execution."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.open, (str(self.marker), os.O_CREAT | os.O_WRONLY))


def test_a_pickle_that_runs_code_is_refused_before_running(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pth"
    torch.save({"model.1.weight": torch.zeros(1), "payload": _TouchOnUnpickle(marker)}, path)
    assert not marker.exists()
    with pytest.raises(CheckpointError, match=r"evil\.pth cannot be read safely.*(posix|nt)\.open"):
        load_official_generator(path)
    assert not marker.exists()


def test_wrong_shapes_are_reported_by_key(tmp_path):
    state = ResnetGenerator(3, 3, ngf=4, n_blocks=2).state_dict()
    state["model.10.conv_block.5.weight"] = torch.zeros(16, 16, 5, 5)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"model\.10\.conv_block\.5\.weight") as error:
        load_official_generator(path)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a checkpoint at all", "corrupt or not a PyTorch"),
        ({"generator.weight": torch.zeros(2, 2, 1, 1)}, "not an official"),
        ([torch.zeros(1)], "not a state_dict"),
    ],
)
def test_foreign_files_are_refused(tmp_path, content, message):
    path = tmp_path / "foreign.pth"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    with pytest.raises(CheckpointError, match=message):
        load_official_generator(path)


def test_missing_file_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_official_generator(tmp_path / "nope.pth")


# --- translating one picture (the `translate` CLI) ---------------------------------------------


def save_generator_file(tmp_path: Path, network: torch.nn.Module) -> Path:
    path = tmp_path / "latest_net_G.pth"
    torch.save(network.state_dict(), path)
    return path


def random_picture(width: int, height: int, seed: int = 0) -> Image.Image:
    levels = np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    return Image.fromarray(levels)


def test_translate_cli_keeps_the_size_and_matches_the_network(tmp_path, capsys):
    torch.manual_seed(0)
    network = ResnetGenerator(3, 3, ngf=4, n_blocks=2).eval()
    checkpoint = save_generator_file(tmp_path, network)
    random_picture(20, 12).save(tmp_path / "in.png")
    random_picture(21, 13, seed=1).save(tmp_path / "odd.png")

    assert main(["translate", "--checkpoint", str(checkpoint), "--input", str(tmp_path / "in.png"),
                 "--out", str(tmp_path / "out.png")]) == 0
    assert main(["translate", "--checkpoint", str(checkpoint), "--input", str(tmp_path / "odd.png"),
                 "--out", str(tmp_path / "odd_out.png")]) == 0

    assert "ResNet generator, 2 blocks" in capsys.readouterr().out
    assert Image.open(tmp_path / "odd_out.png").size == (21, 13)
    result = np.asarray(Image.open(tmp_path / "out.png"), dtype=np.int16)
    pixels = torch.from_numpy(np.asarray(Image.open(tmp_path / "in.png"), dtype=np.float32)).permute(2, 0, 1)
    with torch.no_grad():
        expected = network(pixels.unsqueeze(0) / 127.5 - 1)[0]
    expected_levels = ((expected + 1) * 127.5).round().permute(1, 2, 0).numpy().astype(np.int16)
    assert np.abs(result - expected_levels).max() <= 1


def test_translate_half_picks_a_half_of_an_aligned_pair(tmp_path):
    torch.manual_seed(0)
    checkpoint = save_generator_file(tmp_path, ResnetGenerator(3, 3, ngf=4, n_blocks=1))
    pair = Image.new("RGB", (32, 12))
    pair.paste(random_picture(16, 12, seed=1), (0, 0))
    pair.paste(random_picture(16, 12, seed=2), (16, 0))
    pair.save(tmp_path / "pair.png")
    random_picture(16, 12, seed=2).save(tmp_path / "b.png")

    for half, source in (("right", "pair.png"), (None, "b.png")):
        command = ["translate", "--checkpoint", str(checkpoint), "--input", str(tmp_path / source),
                   "--out", str(tmp_path / f"{half}.png")]
        assert main(command + (["--half", half] if half else [])) == 0
    assert Image.open(tmp_path / "right.png").size == (16, 12)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "right.png")), np.asarray(Image.open(tmp_path / "None.png")))


def test_unet_with_batch_norm_translates_on_batch_statistics_and_keeps_its_buffers(tmp_path):
    torch.manual_seed(0)
    network = UnetGenerator(3, 3, num_downs=5, ngf=4, norm="batch")
    with torch.no_grad():  # make eval-mode and train-mode outputs differ visibly
        for module in network.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-1, 1)
    generator, arch = load_official_generator(save_generator_file(tmp_path, network))
    before = {key: value.clone() for key, value in generator.state_dict().items()}
    picture = random_picture(40, 24)

    translated = translate_image(generator, arch, picture)

    assert translated.size == (40, 24)
    assert all(torch.equal(before[key], value) for key, value in generator.state_dict().items())
    square = random_picture(32, 32, seed=3)
    pixels = torch.from_numpy(np.asarray(square, dtype=np.float32)).permute(2, 0, 1).unsqueeze(0) / 127.5 - 1
    with torch.no_grad():
        train_mode = network.train()(pixels)[0]
    levels = ((train_mode + 1) * 127.5).round().permute(1, 2, 0).numpy().astype(np.int16)
    ours = np.asarray(translate_image(generator, arch, square), dtype=np.int16)
    assert np.abs(ours - levels).max() <= 1


def test_translate_cli_reports_bad_inputs_in_one_line(tmp_path, capsys):
    checkpoint = save_generator_file(tmp_path, ResnetGenerator(3, 3, ngf=4, n_blocks=1))
    (tmp_path / "broken.png").write_bytes(b"not a picture")
    cases = [
        (["--checkpoint", str(tmp_path / "missing.pth"), "--input", str(tmp_path / "broken.png")], "does not exist"),
        (["--checkpoint", str(checkpoint), "--input", str(tmp_path / "broken.png")], "cannot decode"),
    ]
    for arguments, message in cases:
        assert main(["translate", *arguments, "--out", str(tmp_path / "out.png")]) == 2
        error = capsys.readouterr().err
        assert message in error and error.count("\n") == 1
    assert not (tmp_path / "out.png").exists()
