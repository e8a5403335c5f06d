"""The Train page's distributed parts (#24): the "Processes / GPUs" field reaches the job, and the per-machine
torchrun commands follow the form's settings."""

from __future__ import annotations

import pytest
from app_testing import open_app_page
from streamlit.testing.v1 import AppTest

from gan_core.training.jobs import JobManager


@pytest.fixture
def train_page(monkeypatch, tmp_path) -> AppTest:
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_MAX_JOBS", "0")  # queue only: no worker starts
    return open_app_page("app_pages/train.py")


def test_the_page_prints_one_torchrun_command_per_machine_and_starts_a_job_of_several_processes(train_page, tmp_path):
    at = train_page
    assert at.number_input(key="processes.dcgan").value == 1
    assert "batch size below is per process" in at.number_input(key="processes.dcgan").help
    at.number_input(key="processes.dcgan").set_value(4)
    at.number_input(key="dcgan.batch_size").set_value(256)
    at.number_input(key="train.nodes").set_value(3)
    at.text_input(key="train.master").set_value("10.1.2.3")
    next(button for button in at.button if button.label == "Show the commands").click().run()
    assert not at.exception, at.exception
    commands = [block.value for block in at.code if block.value.startswith("torchrun")]
    assert len(commands) == 3
    for node, command in enumerate(commands):
        assert command.startswith(f"torchrun --nnodes 3 --node-rank {node} --master-addr 10.1.2.3 --master-port 29500 "
                                  "--nproc-per-node 4 -m gan_core train --variant dcgan --out runs/")
        assert "--batch-size 256" in command
    assert any("12 processes in all, each on batch size 256: 3072 images per step" in c.value for c in at.caption)
    assert JobManager(tmp_path / "runs").list_jobs() == [], "showing commands starts nothing"

    at.number_input(key="processes.dcgan").set_value(2)
    next(button for button in at.button if button.label == "Start training").click().run()
    assert not at.exception, at.exception
    assert at.success and "Started job" in at.success[0].value
    (job,) = JobManager(tmp_path / "runs").list_jobs()
    assert job.processes == 2 and job.status == "queued" and job.config.batch_size == 256
    assert at.dataframe[0].value["processes"].iloc[0] == 2
