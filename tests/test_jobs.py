"""The job manager: queueing, cancelling, crash detection, resume and restart-proof metrics.

Workers are real subprocesses training tiny configs, so these tests exercise the same path the app does.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from job_waiting import wait_for_job

from gan_core.errors import ConfigError, GanStudioError
from gan_core.registry import config_for
from gan_core.training.jobs import JobManager

TIMEOUT_S = 120.0
STEPS_TO_KILL = 400


def tiny(steps: int, **overrides):
    values = {"width": 8, "image_size": 16, "batch_size": 16, "noise_dim": 8, "steps": steps, "log_every": 1,
              "sample_every": 5, "checkpoint_every": 5, "device": "cpu", **overrides}
    return config_for("dcgan", **values)


def wait_for(jobs: JobManager, job_id: str, condition, what: str):
    return wait_for_job(jobs, job_id, condition, what, TIMEOUT_S)


def test_submit_validates_config(tmp_path):
    jobs = JobManager(tmp_path)
    with pytest.raises(ConfigError, match="Batch size"):
        jobs.submit(tiny(3).replace(batch_size=0))
    assert jobs.list_jobs() == []


def test_queue_runs_one_at_a_time_and_metrics_survive_restart(tmp_path):
    jobs = JobManager(tmp_path, max_concurrent=1)
    first = jobs.submit(tiny(6), session="s1")
    second = jobs.submit(tiny(4), session="s2")
    assert jobs.refresh() == [first]
    assert jobs.get(second).status == "queued"
    assert [job.id for job in jobs.list_jobs(session="s2")] == [second]
    # The first worker starts the second at its exit, even without anyone calling refresh.
    deadline = time.monotonic() + TIMEOUT_S
    while jobs.get(second).status != "finished" and time.monotonic() < deadline:
        assert jobs.count_running() <= 1
        time.sleep(0.2)
    assert jobs.get(first).status == "finished", jobs.log_tail(first)
    assert jobs.get(second).status == "finished", jobs.log_tail(second)

    restarted = JobManager(tmp_path)  # as after an app restart
    rows = restarted.metrics(first)
    assert [row["step"] for row in rows] == [1, 2, 3, 4, 5, 6]
    assert {"D_real", "D_fake", "G_GAN", "images_per_s"} <= set(rows[-1])
    assert [row["step"] for row in restarted.metrics(first, since_step=4)] == [5, 6]
    assert restarted.get(first).step == 6
    assert restarted.sample_paths(first)
    assert restarted.generator_path(first) is not None


def test_cancel_queued_and_running(tmp_path):
    jobs = JobManager(tmp_path, max_concurrent=1)
    running = jobs.submit(tiny(100_000))
    queued = jobs.submit(tiny(3))
    jobs.refresh()
    jobs.cancel(queued)
    assert jobs.get(queued).status == "cancelled"
    wait_for(jobs, running, lambda job: job.step >= 2, "the job to log")
    with pytest.raises(GanStudioError, match="cancel it before deleting"):
        jobs.delete(running)
    jobs.cancel(running)
    job = wait_for(jobs, running, lambda job: job.status != "running", "the job to stop")
    assert job.status == "cancelled", job.message
    assert 2 <= job.step < 100_000
    with pytest.raises(GanStudioError, match="cancelled"):
        jobs.cancel(running)
    jobs.delete(queued)
    assert not jobs.run_dir(queued).exists()
    assert [job.id for job in jobs.list_jobs()] == [running]


def test_killed_worker_is_interrupted_and_resumes_from_checkpoint(tmp_path):
    jobs = JobManager(tmp_path)
    # Long enough that the worker is still training when the kill lands: with 30 steps it sometimes finished
    # between the poll that saw step 10 and the kill (CI, stop 39).
    job_id = jobs.submit(tiny(STEPS_TO_KILL, checkpoint_every=4, log_every=2))
    jobs.refresh()
    job = wait_for(jobs, job_id, lambda job: job.step >= 10 and job.pid is not None, "a checkpoint")
    os.kill(job.pid, signal.SIGKILL)
    job = wait_for(jobs, job_id, lambda job: job.status != "running", "the crash to be noticed")
    assert job.status == "interrupted"
    with pytest.raises(GanStudioError, match="only queued or running"):
        jobs.cancel(job_id)

    jobs.resume(job_id)
    job = wait_for(jobs, job_id, lambda job: job.status not in ("queued", "running"), "the resumed job to end")
    assert job.status == "finished", jobs.log_tail(job_id)
    log = jobs.log_tail(job_id, lines=200)
    resumed_from = int(log.split("from step ")[2].split()[0])  # the second start line
    assert resumed_from >= 8 and resumed_from % 4 == 0
    steps = [row["step"] for row in jobs.metrics(job_id)]
    assert steps == list(range(2, STEPS_TO_KILL + 1, 2)), "rows after the checkpoint are logged once, not twice"


def test_worker_failure_is_reported(tmp_path):
    jobs = JobManager(tmp_path)
    job_id = jobs.submit(tiny(3, dataset="folder", data_root=str(tmp_path / "missing")))
    jobs.refresh()
    job = wait_for(jobs, job_id, lambda job: job.status not in ("queued", "running"), "the job to fail")
    assert job.status == "failed"
    assert "Traceback" not in job.message and job.message
    with pytest.raises(GanStudioError, match="no checkpoint"):
        jobs.resume(job_id)


def test_until_the_first_step_the_jobs_table_says_what_is_loading_and_that_a_download_takes_time():
    from gan_core.training.worker import loading_message

    assert loading_message("digits") == "loading digits"
    assert "downloaded" in loading_message("facades") and "downloaded" in loading_message("mnist")
    assert loading_message("no_such_set") == "loading the dataset"


def test_the_log_tail_reads_only_the_end_and_shows_a_progress_bar_at_its_latest(tmp_path):
    jobs = JobManager(tmp_path)
    job_id = jobs.submit(tiny(3))
    log = jobs.run_dir(job_id) / "log.txt"
    log.parent.mkdir(parents=True, exist_ok=True)
    bar = "".join(f"\rdownloading facades.tar.gz: {percent}%" for percent in range(0, 101, 10))
    log.write_text("x" * 100_000 + "\nstarting\n" + bar + "\n\njob done\n")
    assert jobs.log_tail(job_id).splitlines() == ["starting", "downloading facades.tar.gz: 100%", "job done"]
    assert jobs.log_tail(job_id, lines=1) == "job done"
    assert jobs.log_tail("no-such-job") == ""


def test_default_job_names_are_unique(tmp_path):
    from gan_core.registry import config_for
    from gan_core.training.jobs import JobManager

    jobs = JobManager(tmp_path)
    config = config_for("dcgan")
    assert jobs.unused_name("dcgan on digits") == "dcgan on digits"
    jobs.submit(config, name=jobs.unused_name("dcgan on digits"))
    jobs.submit(config, name=jobs.unused_name("dcgan on digits"))
    assert jobs.unused_name("dcgan on digits") == "dcgan on digits (3)"
    assert jobs.unused_name("dcgan on mnist_5k") == "dcgan on mnist_5k"
