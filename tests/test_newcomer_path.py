"""A newcomer's first path (#25): mistakes refused before a job exists, links that go where they say,
one trainer per run folder."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest
from test_variant_settings import form_fields

from gan_core.cli import main
from gan_core.registry import config_for, variants

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_a_size_the_networks_cannot_take_is_refused_before_a_job_exists(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/train.py")
    at.run()
    at.number_input(key="dcgan.image_size").set_value(33)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert [error.value for error in at.error] == [
        "Image size must be a power of two from 8 (8, 16, 32, 64, ...) for convolutional networks; got 33"]
    assert not at.success and "No training jobs yet" in at.info[-1].value


def test_the_folder_dataset_without_a_folder_is_refused_before_a_job_exists(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/train.py")
    at.run()
    at.selectbox(key="dataset.dcgan").select("folder").run()
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert "name their folder" in at.error[0].value
    assert not at.success


def test_a_home_card_link_opens_train_with_its_variant(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/train.py")
    at.query_params["variant"] = "wgan_gp"
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="variant").value == "wgan_gp"
    assert "gp_weight" in form_fields(at, "wgan_gp")


def test_home_cards_link_to_training_their_own_variant(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path / "no_checkpoints"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    links = [element.proto for element in at.get("page_link")]
    training = {link.label: link.query_string for link in links if link.label.startswith("Train ")}
    assert training == {f"Train {spec.title}": f"variant={name}" for name, spec in variants().items()}


def test_a_second_trainer_of_the_same_run_folder_exits_2_naming_the_first(tmp_path, capsys, digits16):
    import subprocess
    import sys

    from gan_core.training import train

    run = tmp_path / "run"
    config = config_for("dcgan", steps=1, width=8, noise_dim=8, image_size=16, batch_size=8, device="cpu")
    train(config, run, dataset=digits16)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from gan_core.training.run_files import RunLock\n"
         f"with RunLock({str(run)!r}):\n    print('locked', flush=True); sys.stdin.readline()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["train", "--resume", str(run), "--steps", "2", "--quiet"]) == 2
        assert f"is being trained by another process (pid {holder.pid})" in capsys.readouterr().err
    finally:
        holder.communicate("\n", timeout=30)
    assert main(["train", "--resume", str(run), "--steps", "2", "--quiet"]) == 0, "the lock ends with its process"


def test_home_starts_a_newcomer_on_the_playground_and_a_first_job(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path / "no_checkpoints"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert [header.value for header in at.header][:1] == ["Start here"]
    links = {link.proto.label: link.proto.page for link in at.get("page_link")}
    assert any(label.startswith("See a GAN learn") and "playground" in page for label, page in links.items())
    assert any(label.startswith("Your first training job") and "train" in page for label, page in links.items())


def test_start_again_fills_the_form_with_a_jobs_settings(monkeypatch, tmp_path):
    from gan_core.app.jobs import job_manager

    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    jobs = job_manager()
    job_id = jobs.submit(config_for("wgan", steps=7, lr_g=3e-4, weight_clip=0.02), name="a wgan")
    jobs.update(job_id, status="cancelled")
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/train.py")
    at.run()
    at.button(key="job.again").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="variant").value == "wgan"
    assert at.number_input(key="wgan#1.steps").value == 7
    assert at.text_input(key="wgan#1.lr_g").value == "0.0003"
    assert at.text_input(key="wgan#1.weight_clip").value == "0.02"
    assert any("holds the settings of a wgan" in info.value for info in at.info)
    assert not at.warning


def test_train_help_names_the_datasets(capsys):
    import pytest

    from gan_core.data.catalogue import dataset_names

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--dataset DATASET one of " + ", ".join(dataset_names()) in help_text


def test_a_missing_optional_debian_package_is_named_with_what_goes_without_it_and_never_fails_setup(tmp_path):
    """Where apt-get cannot run (here: not on PATH), the setup script says what to install and what the app does
    without it, and exits 0 so that the README's commands go on."""
    import subprocess

    script = Path(APP).parent / "scripts" / "apt-optional.sh"
    done = subprocess.run(["/bin/bash", str(script), "the Sequences page shows no nearest poem", "fortunes-zh"],
                          capture_output=True, text=True, env={"PATH": str(tmp_path)}, timeout=30)
    assert done.returncode == 0
    assert "fortunes-zh missing" in done.stderr and "the Sequences page shows no nearest poem" in done.stderr


def test_the_train_form_says_how_far_the_shipped_model_trained_and_fills_in_its_recipe(monkeypatch, tmp_path):
    """StyleGAN's form starts at 2,000 steps, its shipped model trained 14,000 with its own settings: the form says
    so, and one press fills in every setting the checkpoint records (its seed too), on this machine's device. A
    model shipped with the defaults (DCGAN's) gets neither note nor button."""
    import json

    from gan_core.checkpoints import read_metadata

    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.delenv("GAN_STUDIO_CHECKPOINTS", raising=False)
    shipped = json.loads(read_metadata(Path(APP).parent / "checkpoints" / "stylegan-mnist.safetensors")["config"])
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/train.py")
    at.query_params["variant"] = "stylegan"
    at.run()
    default_steps = at.number_input(key="stylegan.steps").value
    assert shipped["steps"] > default_steps
    assert any(f"trained {shipped['steps']:,} steps" in caption.value and "quicker first run" in caption.value
               and "differs from the defaults in r1_gamma, steps" in caption.value for caption in at.caption)
    at.button(key="form.shipped_recipe").click().run()
    assert not at.exception, at.exception
    fields = {widget.key.split(".")[-1]: widget.value for widget in [*at.number_input, *at.text_input, *at.selectbox]
              if widget.key and widget.key.startswith("stylegan#1.")}
    assert fields["steps"] == shipped["steps"] and fields["batch_size"] == shipped["batch_size"]
    assert float(fields["lr_g"]) == shipped["lr_g"] and float(fields["ema_decay"]) == shipped["ema_decay"]
    assert fields["seed"] == shipped["seed"] and fields["device"] == "auto"
    assert at.info and "stylegan-mnist" in at.info[0].value
    at.selectbox(key="variant").select("dcgan").run()
    assert not at.exception, at.exception
    assert not [button for button in at.button if button.key == "form.shipped_recipe"]
