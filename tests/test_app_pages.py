"""Every page driven through Streamlit's AppTest, with tiny models and a runs folder in tmp_path."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_core.registry import config_for
from gan_core.training.trainer import Trainer

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TINY = {"width": 8, "image_size": 16, "batch_size": 16, "noise_dim": 8, "steps": 2, "log_every": 1,
        "sample_every": 2, "checkpoint_every": 2, "device": "cpu"}


@pytest.fixture(scope="module")
def shipped(tmp_path_factory, digits16) -> Path:
    """A checkpoints folder with tiny stand-ins for the shipped models (2 training steps each)."""
    folder = tmp_path_factory.mktemp("checkpoints")
    for variant in ("dcgan", "cgan", "acgan", "infogan"):
        run_dir = tmp_path_factory.mktemp(variant)
        Trainer(config_for(variant, **TINY), run_dir, dataset=digits16).run()
        shutil.copy(run_dir / "generator.safetensors", folder / f"{variant}-digits.safetensors")
    return folder


@pytest.fixture
def app_env(monkeypatch, tmp_path, shipped):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(shipped))


def open_page(path: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(path) if path != "pages/home.py" else None
    at.run()
    assert not at.exception, at.exception
    return at


def image_sources(at: AppTest) -> list[str]:
    return [url for element in at.get("image") for url in element.value]


def test_home_lists_every_variant_with_samples_for_shipped_ones(app_env):
    at = open_page("pages/home.py")
    from gan_core.registry import variants

    subheaders = [element.value for element in at.subheader]
    assert sorted(subheaders) == sorted(spec.title for spec in variants().values())
    assert len(at.latex) == len(subheaders)
    assert len(image_sources(at)) == 4  # the dcgan, cgan, acgan and infogan stand-ins
    assert "Running jobs:** 0" in " ".join(element.value for element in at.sidebar.markdown)


def test_home_without_models_shows_no_images(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path / "none"))
    at = open_page("pages/home.py")
    assert image_sources(at) == []


def test_model_pages_without_models_say_so(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path / "none"))
    for page in ("pages/infogan.py", "pages/conditional.py"):
        at = open_page(page)
        assert at.info and "No" in at.info[0].value


def test_train_rejects_a_bad_config_next_to_the_form(app_env):
    at = open_page("pages/train.py")
    at.selectbox(key="variant").select("wgan_gp").run()
    at.text_input(key="wgan_gp.lr_g").input("5")
    at.button[0].click().run()  # the form's submit button comes first
    assert not at.exception
    assert "lr_g must be a number in" in at.error[0].value


def test_train_runs_a_tiny_job_to_the_end(app_env):
    at = open_page("pages/train.py")
    at.selectbox(key="variant").select("dcgan").run()
    at.selectbox(key="dataset.dcgan").select("digits").run()
    for field, value in {"steps": 4, "batch_size": 16, "image_size": 16, "log_every": 1, "sample_every": 2,
                         "checkpoint_every": 2, "width": 8, "noise_dim": 8}.items():
        at.number_input(key=f"dcgan.{field}").set_value(value)
    at.selectbox(key="dcgan.device").select("cpu")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.success and "Started job" in at.success[0].value
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        table = at.dataframe[0].value
        if table["status"].iloc[0] in ("finished", "failed"):
            break
        time.sleep(0.5)
    assert table["status"].iloc[0] == "finished", at.caption
    assert table["step"].iloc[0] == "4/4"
    assert len(at.get("plotly_chart")) >= 4  # losses per network, D(x)/D(G(z)), grad norms, speed
    assert image_sources(at), "the latest sample grid is shown"
    assert any(element.proto.label == "Download generator" for element in at.get("download_button"))
    assert at.button(key="job.resume").disabled and at.button(key="job.cancel").disabled

    at.button(key="job.delete").click().run()
    assert not at.exception
    assert "No training jobs yet" in at.info[0].value
    assert not any((Path(os.environ["GAN_STUDIO_RUNS"])).glob("*/generator.safetensors"))


def wait_for_status(at: AppTest, statuses: tuple[str, ...]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        status = at.dataframe[0].value["status"].iloc[0]
        if status in statuses:
            return status
        time.sleep(0.5)
    pytest.fail(f"job still {status}")


def test_cancel_and_resume_from_the_jobs_table(app_env):
    from gan_core.app_support import job_manager

    jobs = job_manager()
    job_id = jobs.submit(config_for("dcgan", **{**TINY, "steps": 100_000, "checkpoint_every": 1000}))
    at = open_page("pages/train.py")
    assert wait_for_status(at, ("running",)) == "running"
    while jobs.get(job_id).step < 2:
        time.sleep(0.2)
    at.button(key="job.cancel").click().run()
    assert wait_for_status(at, ("cancelled", "failed")) == "cancelled"
    cancelled_at = jobs.get(job_id).step
    at.button(key="job.resume").click().run()
    assert jobs.get(job_id).status in ("queued", "running")
    at.button(key="job.cancel").click().run()
    assert wait_for_status(at, ("cancelled", "failed")) == "cancelled"
    assert jobs.get(job_id).step >= cancelled_at >= 2
    assert f"from step {cancelled_at}" in jobs.log_tail(job_id, 50), "the second run continued from the checkpoint"


def test_infogan_slider_changes_the_image(app_env):
    at = open_page("pages/infogan.py")
    before = image_sources(at)
    assert len(before) == 2  # the large image and the traversal
    at.slider(key="infogan.code0").set_value(1.5).run()
    assert not at.exception
    after = image_sources(at)
    assert after[0] != before[0]
    at.selectbox(key="infogan.category").select(3).run()
    assert image_sources(at)[0] != after[0]


def test_conditional_labels_change_the_grids(app_env):
    at = open_page("pages/conditional.py")
    models = at.selectbox(key="conditional.model")
    assert [option.split(" ")[0] for option in models.options] == ["acgan-digits", "cgan-digits"]
    before = image_sources(at)
    assert len(before) == 3 + 1  # three default labels and the interpolation row
    at.multiselect(key="conditional.labels").set_value([7]).run()
    assert not at.exception
    after = image_sources(at)
    assert len(after) == 2 and after[0] not in before
    assert [caption for element in at.get("image") for caption in element.captions if caption] == ["label 7"]
    models.select_index(1).run()
    assert not at.exception
    assert image_sources(at)[0] != after[0]


def test_train_defaults_to_dcgan_and_each_variant_brings_its_dataset(app_env):
    at = open_page("pages/train.py")
    assert at.selectbox(key="variant").value == "dcgan"
    assert at.selectbox(key="dataset.dcgan").value == "digits"
    at.selectbox(key="variant").select("pix2pix").run()
    assert at.selectbox(key="dataset.pix2pix").value == "edges2photo"
    assert not at.exception


def test_folder_dataset_offers_a_zip_upload_and_states_its_limits(app_env):
    at = open_page("pages/train.py")
    at.selectbox(key="dataset.dcgan").select("folder").run()
    assert not at.exception
    assert any("Accepted: a .zip of PNG" in caption.value for caption in at.caption)


def test_an_uploaded_dataset_zip_is_unpacked_once_under_the_runs_folder(app_env, tmp_path):
    import io
    import zipfile

    from PIL import Image

    from gan_core.app_support import runs_dir, unpack_dataset_zip
    from gan_core.data import load_dataset

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for label in ("a", "b"):
            for i in range(6):
                picture = io.BytesIO()
                Image.new("L", (20, 20), 40 * i).save(picture, format="PNG")
                archive.writestr(f"{label}/{i}.png", picture.getvalue())
        archive.writestr("../escape.png", b"x")
    folder, summary = unpack_dataset_zip(buffer.getvalue())
    assert folder.parent == runs_dir() / "datasets"
    assert "12 images extracted in 2 classes" in summary
    assert not (folder.parent / "escape.png").exists() and not (runs_dir() / "escape.png").exists()
    assert load_dataset("folder", 16, str(folder)).class_names == ["a", "b"]
    again, summary = unpack_dataset_zip(buffer.getvalue())
    assert again == folder and "before" in summary
