"""Every page driven through Streamlit's AppTest, with tiny models and a runs folder in tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from app_testing import open_app_page
from job_waiting import wait_for_table_status
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
        shutil.copy(run_dir / "generator.safetensors", folder / f"{variant}-mnist.safetensors")
    return folder


@pytest.fixture
def app_env(monkeypatch, tmp_path, shipped):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(shipped))


def open_page(path: str) -> AppTest:
    return open_app_page(path)


def image_sources(at: AppTest) -> list[str]:
    return [url for element in at.get("image") for url in element.value]


def test_home_lists_every_variant_with_samples_for_shipped_ones(app_env):
    at = open_page("app_pages/home.py")
    from gan_core.registry import variants

    subheaders = [element.value for element in at.subheader]
    assert sorted(subheaders) == sorted(spec.title for spec in variants().values())
    assert len(at.latex) == len(subheaders)
    assert len(image_sources(at)) == 4  # the dcgan, cgan, acgan and infogan stand-ins
    assert "Running jobs:** 0" in " ".join(element.value for element in at.sidebar.markdown)


def test_home_cards_show_lines_of_a_sequence_model_and_a_ranked_list_of_a_ranking_model(monkeypatch, tmp_path):
    shipped_folder = Path(APP).parent / "checkpoints"
    for name in ("seqgan-oracle", "irgan-ml100k"):
        (tmp_path / f"{name}.safetensors").symlink_to(shipped_folder / f"{name}.safetensors")
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path))
    at = open_page("app_pages/home.py")
    lines = [line for element in at.code for line in element.value.splitlines()]
    assert len(lines) == 4 and all(token.isdigit() for line in lines for token in line.split()), "oracle samples: ids"
    ranked = [element.value for element in at.markdown if element.value.startswith("1. ")]
    assert len(ranked) == 1 and ranked[0].count("\n") == 4, "five movies, one per line"
    assert any("top 5 movies for user" in element.value for element in at.caption)
    assert image_sources(at) == [] and not at.warning


def test_home_without_models_shows_no_images(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path / "none"))
    at = open_page("app_pages/home.py")
    assert image_sources(at) == []


def test_the_home_card_shows_the_model_of_the_variants_default_data_set(monkeypatch, tmp_path):
    import torch
    from safetensors.torch import save_file

    from gan_core.app.models import shipped_model
    from gan_core.checkpoints import FORMAT

    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path))
    trained_on = {"pix2pix-gray2color": "gray2color", "pix2pix-photo2sketch_paired": "photo2sketch_paired",
                  "cgan-digits": "digits", "cgan-mnist": "mnist_5k", "seqgan-oracle-mle-only": "seqgan_oracle",
                  "seqgan-oracle": "seqgan_oracle", "seqgan-a_poem": "tang_poems", "acgan-zz_other": "digits"}
    for name, dataset in trained_on.items():
        save_file({"x": torch.zeros(1)}, tmp_path / f"{name}.safetensors", metadata={"format": FORMAT, "dataset": dataset})
    (tmp_path / "acgan-broken.safetensors").write_bytes(b"not a checkpoint")
    assert shipped_model("pix2pix").name == "pix2pix-photo2sketch_paired.safetensors"  # not the first by name
    assert shipped_model("cgan").name == "cgan-mnist.safetensors", "the data set is read from the file, not its name"
    assert shipped_model("seqgan").name == "seqgan-oracle.safetensors", "the plainest name of the default data set's"
    assert shipped_model("acgan").name == "acgan-broken.safetensors"  # no default-data model: the first by name
    assert shipped_model("dcgan") is None


def test_a_model_choice_says_how_long_it_trained_and_on_what(monkeypatch, tmp_path):
    import torch
    from safetensors.torch import save_file

    from gan_core.app.models import available_models
    from gan_core.checkpoints import FORMAT

    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    for name, extra in (("cgan-long", {"step": "10000", "dataset": "mnist_5k"}), ("cgan-old", {})):
        save_file({"x": torch.zeros(1)}, tmp_path / f"{name}.safetensors",
                  metadata={"format": FORMAT, "variant": "cgan", **extra})
    labels = [choice.label for choice in available_models()]
    assert labels == ["cgan-long (shipped) · 10,000 steps on mnist_5k", "cgan-old (shipped)"]


def test_model_pages_without_models_say_so(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path / "none"))
    for page in ("app_pages/infogan.py", "app_pages/conditional.py"):
        at = open_page(page)
        assert at.info and "No" in at.info[0].value


def test_train_rejects_a_bad_config_next_to_the_form(app_env):
    at = open_page("app_pages/train.py")
    at.selectbox(key="variant").select("wgan_gp").run()
    at.text_input(key="wgan_gp.lr_g").input("5")
    at.button[0].click().run()  # the form's submit button comes first
    assert not at.exception
    assert "Generator learning rate (lr_g) must be a number from 1e-07 to 1; got 5.0" in at.error[0].value
    group = next(expander for expander in at.expander if any(box.key == "wgan_gp.lr_g" for box in expander.text_input))
    assert group.proto.expanded and "Generator learning rate" in group.error[0].value, "said under its field"
    assert at.text_input(key="wgan_gp.lr_g").value == "5", "what the user typed is kept"


def test_an_offline_download_is_refused_at_start_under_the_dataset(app_env, monkeypatch, tmp_path):
    monkeypatch.setattr("gan_core.data.downloads.reachable", lambda url, timeout=3.0: False)
    monkeypatch.setenv("GAN_STUDIO_DATA", str(tmp_path / "empty"))
    at = open_page("app_pages/train.py")
    at.selectbox(key="dataset.dcgan").select("mnist").run()
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert "'mnist' is not downloaded yet" in at.error[0].value and "mnist_5k" in at.error[0].value
    assert not at.dataframe, "no job was made"


def test_train_runs_a_tiny_job_to_the_end(app_env):
    at = open_page("app_pages/train.py")
    at.selectbox(key="variant").select("dcgan").run()
    at.selectbox(key="dataset.dcgan").select("digits").run()
    for field, value in {"steps": 4, "batch_size": 16, "image_size": 16, "log_every": 1, "sample_every": 2,
                         "checkpoint_every": 2, "width": 8, "noise_dim": 8}.items():
        at.number_input(key=f"dcgan.{field}").set_value(value)
    at.selectbox(key="dcgan.device").select("cpu")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.success and "Started job" in at.success[0].value
    assert wait_for_table_status(at, ("finished", "failed")) == "finished", at.caption
    table = at.dataframe[0].value
    assert table["step"].iloc[0] == "4/4"
    assert len(at.get("plotly_chart")) >= 4  # losses per network, D(x)/D(G(z)), grad norms, speed
    assert image_sources(at), "the latest sample grid is shown"
    downloads = [element.proto.label for element in at.get("download_button")]
    assert {"Download generator", "Download metrics (CSV)", "Download this sample"} <= set(downloads)
    assert at.button(key="job.resume").disabled and at.button(key="job.cancel").disabled
    log = next(element for element in at.expander if element.label.startswith("Log:"))
    assert ": training on CPU" in log.code[0].value, "what the worker printed, as it printed it"

    at.button(key="job.delete").click().run()
    assert not at.exception
    assert "No training jobs yet" in at.info[0].value
    assert at.success and at.success[0].value.startswith("Deleted dcgan on digits: its run folder")
    assert not any((Path(os.environ["GAN_STUDIO_RUNS"])).glob("*/generator.safetensors"))


def test_a_job_still_loading_shows_its_latest_output_such_as_a_download_bar(app_env):
    from gan_core.app.jobs import job_manager
    from gan_core.training.jobs import process_start_time

    jobs = job_manager()
    tiny = {name: value for name, value in TINY.items() if name != "noise_dim"}  # a translator has no noise
    job_id = jobs.submit(config_for("pix2pix", **tiny, dataset="facades"), name="facades job")
    # this test's own process stands in for a live worker that has not reached its first step
    jobs.update(job_id, status="running", step=0, pid=os.getpid(), pid_start=process_start_time(os.getpid()))
    log = jobs.run_dir(job_id) / "log.txt"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("\rdownloading facades.tar.gz:  10%\rdownloading facades.tar.gz:  45%")
    at = open_page("app_pages/train.py")
    assert not at.exception
    assert "Latest output: downloading facades.tar.gz:  45%" in [caption.value for caption in at.caption]
    jobs.update(job_id, status="failed", message="stopped by the test")


def test_cancel_and_resume_from_the_jobs_table(app_env):
    from gan_core.app.jobs import job_manager

    jobs = job_manager()
    job_id = jobs.submit(config_for("dcgan", **{**TINY, "steps": 100_000, "checkpoint_every": 1000}))
    at = open_page("app_pages/train.py")
    assert wait_for_table_status(at, ("running",)) == "running"
    while jobs.get(job_id).step < 2:
        time.sleep(0.2)
    at.button(key="job.cancel").click().run()
    assert wait_for_table_status(at, ("cancelled", "failed")) == "cancelled"
    cancelled_at = jobs.get(job_id).step
    at.button(key="job.resume").click().run()
    assert jobs.get(job_id).status in ("queued", "running")
    at.button(key="job.cancel").click().run()
    assert wait_for_table_status(at, ("cancelled", "failed")) == "cancelled"
    assert jobs.get(job_id).step >= cancelled_at >= 2
    assert f"from step {cancelled_at}" in jobs.log_tail(job_id, 50), "the second run continued from the checkpoint"


def test_infogan_slider_changes_the_image(app_env):
    at = open_page("app_pages/infogan.py")
    before = image_sources(at)
    assert len(before) == 2  # the large image and the traversal
    at.slider(key="infogan.code0").set_value(1.5).run()
    assert not at.exception
    after = image_sources(at)
    assert after[0] != before[0]
    assert after[1] == before[1], "the traversal sweeps code 1 itself, so its picture is the cached one"
    at.slider(key="infogan.code1").set_value(-1.0).run()
    assert image_sources(at)[1] != after[1], "code 2 is held at its slider value in the traversal"
    downloads = [element.proto.label for element in at.get("download_button")]
    assert downloads == ["Download this image (PNG)", "Download the traversal (PNG)"]


SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints"


@pytest.mark.skipif(not (SHIPPED / "infogan-mnist.safetensors").is_file(), reason="no shipped InfoGAN")
def test_infogan_category_changes_the_image(monkeypatch, tmp_path):
    # The 2-step stand-in barely depends on its categorical code (below one grey level since its weights start
    # at N(0, 0.02)); the shipped, trained model draws a different digit per category.
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(SHIPPED))
    at = open_page("app_pages/infogan.py")
    before = image_sources(at)
    options = at.selectbox(key="infogan.category").options
    assert len(options) == 10 and all("draws" in option for option in options), options
    assert "learned without labels" in " ".join(element.value for element in at.caption)
    at.selectbox(key="infogan.category").select(3).run()
    assert not at.exception
    assert image_sources(at)[0] != before[0]


def test_conditional_labels_change_the_grids(app_env):
    at = open_page("app_pages/conditional.py")
    models = at.selectbox(key="conditional.model")
    assert [option.split(" ")[0] for option in models.options] == ["acgan-mnist", "cgan-mnist"]
    before = image_sources(at)
    assert len(before) == 3 + 1  # three default labels and the interpolation row
    at.multiselect(key="conditional.labels").set_value([7]).run()
    assert not at.exception
    after = image_sources(at)
    assert len(after) == 2 and after[0] not in before
    assert [caption for element in at.get("image") for caption in element.captions if caption] == ["label 7"]
    downloads = [element.proto.label for element in at.get("download_button")]
    assert downloads == ["Download these rows (PNG)", "Download the interpolation (PNG)"]
    at.multiselect(key="conditional.labels").set_value([]).run()
    assert [element.proto.label for element in at.get("download_button")] == ["Download the interpolation (PNG)"]
    at.multiselect(key="conditional.labels").set_value([7]).run()
    models.select_index(1).run()
    assert not at.exception
    assert image_sources(at)[0] != after[0]


def test_train_defaults_to_dcgan_and_each_variant_brings_its_dataset(app_env):
    at = open_page("app_pages/train.py")
    assert at.selectbox(key="variant").value == "dcgan"
    assert at.selectbox(key="dataset.dcgan").value == "mnist_5k"
    assert not any(box.key == "dcgan.keep_lightness" for box in at.checkbox), "no translation fields for dcgan"
    at.selectbox(key="variant").select("pix2pix").run()
    assert at.selectbox(key="dataset.pix2pix").value == "photo2sketch_paired"
    assert at.checkbox(key="pix2pix.keep_lightness").value is False
    assert at.text_input(key="pix2pix.l1_weight").value == "100"
    assert at.number_input(key="pix2pix.chroma_downsample").value == 1
    at.selectbox(key="dataset.pix2pix").select("gray2color").run()
    assert at.checkbox(key="pix2pix.gray2color.keep_lightness").value is True, "colourisation keeps the lightness"
    assert at.number_input(key="pix2pix.gray2color.chroma_downsample").value == 16
    assert not at.exception


def test_folder_dataset_offers_a_zip_upload_and_states_its_limits(app_env):
    at = open_page("app_pages/train.py")
    at.selectbox(key="dataset.dcgan").select("folder").run()
    assert not at.exception
    assert any("Accepted: a .zip of PNG" in caption.value for caption in at.caption)
    assert at.text_input(key="data_root.folder.None").value == ""


def test_each_variant_lists_only_the_datasets_it_can_read_and_asks_only_for_the_folder_that_matters(app_env):
    at = open_page("app_pages/train.py")
    sampler_sets = at.selectbox(key="dataset.dcgan").options
    assert sampler_sets[0].startswith("mnist_5k:") and any(option.startswith("digits:") for option in sampler_sets)
    assert not any(option.startswith(("facades:", "gray2color:", "translation_folder:")) for option in sampler_sets)
    labels = [box.label for box in at.text_input]
    assert "Download folder (optional)" not in labels and "Image folder" not in labels, "digits ship with the app"

    at.selectbox(key="variant").select("pix2pix").run()
    translator_sets = at.selectbox(key="dataset.pix2pix").options
    assert any(option.startswith("facades:") and "downloads when online" in option for option in translator_sets)
    assert not any(option.startswith(("digits:", "mnist:", "mnist_5k:")) for option in translator_sets)
    assert not any(option.startswith(("horse2zebra:", "photo2sketch:")) for option in translator_sets), \
        "unpaired sets are CycleGAN's"
    at.selectbox(key="variant").select("cyclegan").run()
    assert any(option.startswith("horse2zebra:") for option in at.selectbox(key="dataset.cyclegan").options)
    at.selectbox(key="variant").select("pix2pix").run()

    at.selectbox(key="dataset.pix2pix").select("facades").run()
    download = at.text_input(key="data_root.facades")
    assert download.label == "Download folder (optional)" and download.value == ""

    at.selectbox(key="dataset.pix2pix").select("translation_folder").run()
    assert not at.exception
    assert any("Accepted: a .zip" in caption.value and "trainA/" in caption.value for caption in at.caption)
    assert at.text_input(key="data_root.translation_folder.None").label == "Image folder"


def test_an_uploaded_dataset_zip_is_unpacked_once_under_the_runs_folder(app_env, tmp_path):
    import io
    import zipfile

    from PIL import Image

    from gan_core.app.deployment import runs_dir
    from gan_core.app.jobs import unpack_dataset_zip
    from gan_core.data.catalogue import load_dataset

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
    assert "12 images extracted in 2 folders (a, b)" in summary
    assert not (folder.parent / "escape.png").exists() and not (runs_dir() / "escape.png").exists()
    assert load_dataset("folder", 16, str(folder)).class_names == ["a", "b"]
    again, summary = unpack_dataset_zip(buffer.getvalue())
    assert again == folder and "before" in summary


def test_a_zip_in_the_official_cyclegan_layout_unpacks_to_a_translation_folder(app_env):
    import io
    import zipfile

    from PIL import Image

    from gan_core.app.jobs import unpack_dataset_zip
    from gan_core.data.catalogue import load_dataset

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for folder, shade, count in (("trainA", 30, 3), ("trainB", 220, 4), ("testA", 30, 1), ("testB", 220, 1)):
            for i in range(count):
                picture = io.BytesIO()
                Image.new("RGB", (20, 20), (shade, shade, shade)).save(picture, format="PNG")
                archive.writestr(f"horse2zebra/{folder}/{i}.png", picture.getvalue())  # zipped with its folder
    folder, summary = unpack_dataset_zip(buffer.getvalue())
    assert "9 images extracted in 4 folders (testA, testB, trainA, trainB)" in summary
    data = load_dataset("translation_folder", 16, str(folder))
    assert not data.aligned and (data.images.shape[0], data.targets.shape[0]) == (3, 4)


# --- the live dashboard ------------------------------------------------------------------
def columns_of(rows: list[dict]) -> tuple[dict, dict]:
    """A full read as the dashboard's per-series (steps, values)."""
    steps, values = {}, {}
    for row in rows:
        for name, value in row.items():
            if name != "step":
                steps.setdefault(name, []).append(row["step"])
                values.setdefault(name, []).append(value)
    return steps, values


def test_metric_history_reads_only_new_rows_and_matches_a_full_read(tmp_path):
    from gan_core.app.charts import MetricHistory
    from gan_core.training.jobs import JobManager

    jobs = JobManager(tmp_path)
    job_id = jobs.submit(config_for("dcgan", **TINY))
    jobs.update(job_id, status="running", started=100.0)
    asked = []
    metrics = jobs.metrics
    jobs.metrics = lambda job, since_step=0: asked.append(since_step) or metrics(job, since_step)

    def log(steps, offset=0.0):
        for step in steps:
            row = {"D_loss": step + offset, "G_loss": -step - offset}
            if step % 20 == 0:
                row["grad_norm_D"] = 2.0 * step  # a series not logged on every row
            jobs.record_metrics(job_id, step, row, None)

    def same_as_full_read(history):
        steps, values = columns_of(metrics(job_id))
        return history.steps == steps and history.values == values

    history = MetricHistory(job_id)
    assert not history.update(jobs, jobs.get(job_id)) and history.names == []
    log(range(10, 110, 10))
    assert history.update(jobs, jobs.get(job_id)) and same_as_full_read(history)
    version = history.version
    asked.clear()
    assert not history.update(jobs, jobs.get(job_id)) and history.version == version
    log(range(110, 160, 10))
    assert history.update(jobs, jobs.get(job_id)) and same_as_full_read(history)
    history.update(jobs, jobs.get(job_id))
    assert asked == [90, 90, 140], "after the first read only the rows from the last step but one are asked for"

    # A resume from step 120 drops the later rows and logs them again with new values.
    jobs.drop_metrics_after(job_id, 120)
    log(range(130, 200, 10), offset=0.5)
    assert history.update(jobs, jobs.get(job_id)) and same_as_full_read(history)  # noticed without a new start
    jobs.update(job_id, started=200.0)
    jobs.drop_metrics_after(job_id, 150)
    log(range(160, 190, 10), offset=0.25)
    assert history.update(jobs, jobs.get(job_id)) and same_as_full_read(history)
    assert history.steps["D_loss"][-1] == 180 and history.values["D_loss"][-1] == 180.25

    # An ended job's rows are read once more after it ended, then not again.
    jobs.update(job_id, status="finished")
    history.update(jobs, jobs.get(job_id))
    asked.clear()
    assert not history.update(jobs, jobs.get(job_id)) and asked == []
    assert same_as_full_read(history)


def test_metrics_csv_has_a_column_per_series_and_blanks_where_unlogged():
    from gan_core.app.charts import metrics_csv

    rows = [{"step": 1, "D_real": 0.5, "G_GAN": 2.0}, {"step": 2, "D_real": 0.25, "images_per_s": 100.0}]
    assert metrics_csv(rows) == "step,D_real,G_GAN,images_per_s\n1,0.5,2.0,\n2,0.25,,100.0\n"


def smooth(values, weight):
    """The plain TensorBoard-style moving average, written out as the oracle for the incremental one."""
    smoothed, last = [], None
    for value in values:
        last = value if last is None else weight * last + (1 - weight) * value
        smoothed.append(last)
    return smoothed


def test_incremental_smoothing_and_thinning_match_the_plain_versions():
    from gan_core.app.charts import MetricHistory, display_indices

    history = MetricHistory("x")
    rows = [{"step": step, "loss": (step * 7919 % 101) / 10.0} for step in range(1, 301)]
    history._append(rows[:120])
    history.smoothed("loss", 0.6)
    history._append(rows[120:])
    values = [row["loss"] for row in rows]
    assert history.smoothed("loss", 0.6) == smooth(values, 0.6)
    assert history.smoothed("loss", 0.9) == smooth(values, 0.9)  # a new weight starts over

    assert display_indices(0) == [] and display_indices(5, limit=10) == [0, 1, 2, 3, 4]
    for count in (999, 1000, 1001, 4097, 20_000):
        indices = display_indices(count, limit=1000)
        assert len(indices) <= 1001 and indices[0] == 0 and indices[-1] == count - 1
        assert indices == sorted(set(indices))
    grown = display_indices(1900, limit=1000)
    assert set(display_indices(1700, limit=1000)[:-1]) <= set(grown), "the points drawn stay put as a series grows"


def test_the_live_preview_step_is_the_first_row_logged_after_it_was_drawn(tmp_path):
    from gan_core.app.jobs import live_preview_step

    metrics = tmp_path / "metrics.jsonl"
    assert live_preview_step(metrics, 100.0) is None  # no file yet
    rows = [{"step": 10 * i, "time": 100.0 + i, "D_loss": 0.5} for i in range(1, 200)]
    metrics.write_text("".join(json.dumps(row) + "\n" for row in rows) + '{"step": 2000, "ti')  # torn last line
    assert live_preview_step(metrics, 150.5) == 510
    assert live_preview_step(metrics, 151.0) == 510  # logged in the same instant as drawn
    assert live_preview_step(metrics, 400.0) is None  # its row is not logged yet
    assert live_preview_step(metrics, 100.5, tail_bytes=4096) is None  # before the tail read: unknown, not guessed
    assert live_preview_step(metrics, 290.5, tail_bytes=4096) == 1910


def write_grid(path: Path, shade: int) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (20, 20), (shade, shade, shade)).save(path)


def running_job_with_three_rows():
    """A job marked running, as a worker that has just started leaves it: steps 10-30 logged; (jobs, id, files, now)."""
    from gan_core.app.jobs import job_manager
    from gan_core.training.run_files import RunFiles

    jobs = job_manager()
    job_id = jobs.submit(config_for("dcgan", **{**TINY, "steps": 1000}))
    jobs.update(job_id, status="running", started=time.time(), step=30)
    files = RunFiles(jobs.run_dir(job_id))
    files.root.mkdir(parents=True)
    now = time.time()
    for step, logged in ((10, now - 3), (20, now - 2), (30, now - 1)):
        jobs.record_metrics(job_id, step, {"D_loss": 1.0 / step, "G_loss": 2.0, "images_per_s": 100.0}, None)
        with open(files.metrics, "a") as handle:
            handle.write(json.dumps({"step": step, "time": logged, "D_loss": 1.0 / step}) + "\n")
    return jobs, job_id, files, now


def loss_chart_steps(at: AppTest) -> list[list]:
    """The steps of each trace on the "Discriminator losses" chart."""
    loss = next(json.loads(chart.proto.spec) for chart in at.get("plotly_chart")
                if "Discriminator losses" in chart.proto.spec)
    return [decoded(trace["x"]) for trace in loss["data"]]


def test_a_running_jobs_curves_take_new_rows_once_a_second_not_on_every_look(app_env):
    jobs, job_id, _, _ = running_job_with_three_rows()
    at = open_page("app_pages/train.py")
    assert loss_chart_steps(at) == [[10, 20, 30]]
    jobs.record_metrics(job_id, 40, {"D_loss": 0.01, "G_loss": 2.0, "images_per_s": 100.0}, None)
    at.run()  # the live view's next look, well within a second of the last read
    assert not at.exception, at.exception
    assert loss_chart_steps(at) == [[10, 20, 30]], "the chart did not change, so the browser does not redraw it"
    at.session_state["train.curves_read"] -= 1.0  # a second later
    at.run()
    assert loss_chart_steps(at) == [[10, 20, 30, 40]]


def test_dashboard_shows_the_live_preview_while_a_job_trains(app_env):
    jobs, job_id, files, now = running_job_with_three_rows()
    write_grid(files.sample_path(0), 10)
    write_grid(files.sample_path(20), 20)
    write_grid(files.live_sample, 200)
    os.utime(files.live_sample, (now - 1.5, now - 1.5))  # drawn just before step 30 was logged

    at = open_page("app_pages/train.py")
    captions = [caption for element in at.get("image") for caption in element.captions if caption]
    assert captions == ["live preview at step 30"]
    assert at.session_state["train.refreshing"] == (True, True)  # the table and the live view refresh on a timer
    timeline = at.select_slider(key=f"timeline.{job_id}.2.True")
    assert timeline.value == "live" and timeline.options[-1] == "live"
    assert loss_chart_steps(at) == [[10, 20, 30]]

    timeline.set_value(1).run()  # scrub back to the step-20 grid
    assert not at.exception, at.exception
    assert [c for element in at.get("image") for c in element.captions if c] == ["samples at step 20"]

    jobs.record_metrics(job_id, 40, {"D_loss": 0.01, "G_loss": 2.0, "images_per_s": 100.0}, None)
    jobs.update(job_id, status="finished")
    write_grid(files.sample_path(40), 40)  # the last grid is newer than the live preview: it is shown
    at.run()
    assert not at.exception, at.exception
    assert [c for element in at.get("image") for c in element.captions if c] == ["samples at step 40"]
    assert at.session_state["train.refreshing"] == (False, False)  # nothing left to change: no 1 s reruns
    assert loss_chart_steps(at) == [[10, 20, 30, 40]]  # an ended job's last rows are read at once


def decoded(values) -> list:
    """A plotly trace array as sent: a list, or numpy's base64 typed-array form."""
    import base64

    import numpy as np

    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def test_overlaid_runs_are_all_named_in_the_legends_and_their_differing_settings_are_listed(app_env):
    jobs, job_id, _, _ = running_job_with_three_rows()
    other = jobs.submit(config_for("dcgan", **{**TINY, "steps": 1000, "lr_g": 1e-3}), name="faster generator")
    jobs.update(other, status="finished", started=time.time(), step=20)
    for step in (10, 20):
        jobs.record_metrics(other, step, {"D_loss": 0.5, "G_loss": 1.0, "images_per_s": 90.0}, None)
    at = open_page("app_pages/train.py")
    at.session_state["selected_job"] = job_id
    at.run()
    assert not any("Settings that differ" in element.value for element in at.caption), "nothing overlaid yet"
    at.multiselect(key="compare").set_value([other]).run()
    assert not at.exception, at.exception
    loss = next(json.loads(chart.proto.spec) for chart in at.get("plotly_chart")
                if "Discriminator losses" in chart.proto.spec)
    names = [trace["name"] for trace in loss["data"]]
    selected = jobs.get(job_id).name
    assert sorted(names) == sorted([f"{selected} · D_loss", "faster generator · D_loss"]), names
    assert any("Settings that differ" in element.value for element in at.caption)
    differ = at.dataframe[-1].value
    assert differ.index.name == "setting" and "lr_g" in differ.index
    assert differ.loc["lr_g", "faster generator"] == "0.001"
    assert "batch_size" not in differ.index, "only the settings that differ"


def test_differing_settings_include_a_variants_own_settings():
    from gan_core.app.charts import differing_settings

    a = config_for("cyclegan", pool_size=50)
    b = config_for("cyclegan", pool_size=0)
    differ = differing_settings({"a": a, "b": b})
    assert differ == {"pool_size": {"a": "50", "b": "0"}}
    assert differing_settings({"a": a, "same": a}) == {}


def test_the_table_the_status_line_the_buttons_and_the_sidebar_tell_one_story(app_env):
    jobs, job_id, _, _ = running_job_with_three_rows()
    at = open_page("app_pages/train.py")

    def story() -> tuple:
        table = at.dataframe[0].value
        status_line = at.get("progress")[0].proto.text
        return (table["status"].iloc[0], table["step"].iloc[0], status_line,
                at.button(key="job.cancel").disabled, " ".join(element.value for element in at.sidebar.markdown))

    status, step, line, cancel_disabled, sidebar = story()
    assert (status, step) == ("running", "30/1000") and "**running** · step 30/1,000" in line
    assert not cancel_disabled and "Running jobs:** 1" in sidebar
    assert "trained for" in line

    jobs.record_metrics(job_id, 40, {"D_loss": 0.01, "G_loss": 2.0, "images_per_s": 100.0, "elapsed_s": 4.0}, None)
    jobs.update(job_id, status="finished", finished=time.time())
    at.run()
    assert not at.exception, at.exception
    status, step, line, cancel_disabled, sidebar = story()
    assert (status, step) == ("finished", "40/1000") and "**finished** · step 40/1,000" in line
    assert cancel_disabled and "Running jobs:** 0" in sidebar


@pytest.fixture(scope="module")
def stackgan_checkpoints(tmp_path_factory, digits16) -> Path:
    """A checkpoints folder with a tiny StackGAN (2 steps of each stage)."""
    folder, run_dir = tmp_path_factory.mktemp("t2i-checkpoints"), tmp_path_factory.mktemp("stackgan")
    config = config_for("stackgan", **{**TINY, "steps": 4, "sample_every": 4, "checkpoint_every": 4},
                        stage1_steps=2, condition_dim=4, embedding_dim=8, residual_blocks=1)
    Trainer(config, run_dir, dataset=digits16).run()
    shutil.copy(run_dir / "generator.safetensors", folder / "stackgan-mnist.safetensors")
    return folder


def open_text_to_image() -> AppTest:
    """Its url path (text-to-image) is not its file's name, so AppTest must run the app once before switching."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("app_pages/text_to_image.py")
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Text to image"
    return at


@pytest.fixture
def t2i_env(monkeypatch, tmp_path, stackgan_checkpoints):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(stackgan_checkpoints))


def test_text_to_image_draws_both_stages_reads_the_words_and_offers_a_download(t2i_env):
    at = open_text_to_image()
    assert len(image_sources(at)) == 2, "a Stage-I row and a Stage-II row"
    assert [metric.label for metric in at.metric] == ["Digit", "Slant", "Thickness", "Width"]
    assert at.get("download_button")
    at.text_input(key="t2i.caption").set_value("a fluffy bold seven").run()
    assert not at.exception
    assert "fluffy** (unknown)" in " ".join(element.value for element in at.markdown)
    assert any("fluffy" in warning.value for warning in at.warning)
    assert len(image_sources(at)) == 2
    at.button(key="t2i.example.1").click().run()
    assert at.text_input(key="t2i.caption").value == "a bold seven leaning right"
    assert len(image_sources(at)) == 2


@pytest.mark.parametrize("text, shown", [
    ("", "error:caption is empty"),
    ("fluffy wobbly", "error:none of the words is known"),
    ("a" * 10_000, "error:10,000 characters"),
    ("🙂 七 a 3", "warning:symbols that are no words"),
    ("a ٣ leaning left", "images"),
    ("a seven", "images"),
    ("a 12", "warning:only single digits"),
    ("bold and wide", "warning:names no digit"),
])
def test_text_to_image_answers_bad_input_with_a_message_never_a_traceback(t2i_env, text, shown):
    at = open_text_to_image()
    at.text_input(key="t2i.caption").set_value(text).run()
    assert not at.exception, at.exception
    where, _, words = shown.partition(":")
    if where == "error":
        assert at.error and words in at.error[0].value and not image_sources(at)
    elif where == "warning":
        assert any(words in warning.value for warning in at.warning) and len(image_sources(at)) == 2
    else:
        assert len(image_sources(at)) == 2 and not at.error


def test_text_to_image_without_models_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path / "none"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("app_pages/text_to_image.py")
    at.run()
    assert at.info and "No text-to-image model" in at.info[0].value


def test_the_speed_chart_counts_what_each_variant_learns_from():
    from gan_core.app.charts import metric_groups
    from gan_core.registry import variants

    names = ["D_real", "G_GAN", "images_per_s"]
    titles = {name: [title for title in metric_groups(names, spec.discriminator, spec.examples)
                     if title.startswith("Speed")] for name, spec in variants().items()}
    assert titles["dcgan"] == ["Speed (images/s)"]
    assert titles["pix2pix"] == ["Speed (image pairs/s)"]
    assert titles["irgan"] == ["Speed (users/s)"]
    assert titles["seqgan"] == ["Speed (sequences/s)"]


def test_curves_figures_keep_their_legend_inside_the_plot_clear_of_the_step_axis():
    """The Sequences page once drew a horizontal legend under its charts, on top of the axis title."""
    from gan_core.app.figures import curves_figure

    figure = curves_figure("NLL", {"MLE only": ([1, 2, 3], [3.0, 2.0, 1.5]), "SeqGAN": ([1, 2], [3.0, 2.5])},
                           log_y=True)
    assert [trace.name for trace in figure.data] == ["MLE only", "SeqGAN"]
    assert figure.layout.legend.orientation != "h" and 0 <= figure.layout.legend.y <= 1
    assert figure.layout.xaxis.title.text == "step" and figure.layout.yaxis.type == "log"
    assert figure.layout.margin.autoexpand is False
    above = curves_figure("NLL", {"MLE only": ([1, 2], [3.0, 2.0]), "SeqGAN": ([1, 2], [3.0, 2.5])}, legend_above=True)
    assert above.layout.legend.y >= 1 and above.layout.legend.yanchor == "bottom", "the names stand over the plot"
    plot_px = lambda f: f.layout.height - f.layout.margin.t - f.layout.margin.b  # noqa: E731
    assert plot_px(above) == plot_px(figure), "the legend's lines are added, not taken from the plot"


def test_no_page_has_a_bare_expression_that_streamlit_would_draw():
    """Streamlit's "magic" writes any bare expression of a page script onto the page: a string meant as a note on a
    constant appeared as text above the Refine page's title. Only docstrings and calls may stand alone."""
    import ast

    pages = sorted((Path(APP).parent / "app_pages").glob("*.py"))
    assert pages
    drawn = []
    for path in pages:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if not isinstance(body, list):
                continue
            for index, statement in enumerate(body):
                if not isinstance(statement, ast.Expr) or isinstance(statement.value, (ast.Call, ast.Await)):
                    continue
                docstring = (index == 0 and isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
                             and isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str))
                if not docstring:
                    drawn.append(f"{path.name}:{statement.lineno}")
    assert not drawn, f"bare expressions Streamlit would draw: {drawn}"


def test_share_bars_draw_one_labelled_bar_per_name_on_a_fixed_zero_to_one_axis():
    """The Text-to-image page's agreement chart (a horizontal st.bar_chart drew its axis title sideways, no bars)."""
    from gan_core.app.figures import share_bars

    figure = share_bars({"digit": 1.0, "slant": 0.75, "thickness": 0.0}, "seeds that match", 8)
    (bars,) = figure.data
    assert list(bars.y) == ["digit", "slant", "thickness"] and list(bars.x) == [1.0, 0.75, 0.0]
    assert list(bars.text) == ["8 of 8", "6 of 8", "0 of 8"] and bars.orientation == "h"
    assert list(figure.layout.xaxis.range) == [0, 1] and figure.layout.xaxis.title.text == "seeds that match"


def test_the_conditional_page_opens_on_a_model_trained_on_real_digits(monkeypatch):
    """Shipped conditional models on their variant's default data (mnist_5k) come before acgan-digits, whose
    8×8 digits look blurred at the page's size: the first choice is what the page opens on."""
    from gan_core.app.models import _dataset_of, conditional_models
    from gan_core.registry import get_variant

    monkeypatch.delenv("GAN_STUDIO_CHECKPOINTS", raising=False)
    monkeypatch.setenv("GAN_STUDIO_RUNS", "/nonexistent-runs")
    on_default = [_dataset_of(choice.path) == get_variant(choice.variant).default_config().dataset
                  for choice in conditional_models()]
    assert True in on_default and False in on_default, "the shipped set has models on both kinds of data"
    assert on_default == sorted(on_default, reverse=True)
