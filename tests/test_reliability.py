"""Reliability: what a user sees when training goes wrong, the disk fills, a process is killed, a file is
foreign or hostile, a form holds nonsense, many people use one server, or the server is public.

Every test provokes its fault on purpose (a patched step, a patched writer, a SIGKILL at a chosen
moment), so a pass means the guard held, not that the fault failed to happen. RELIABILITY.md maps each
case to the test below that proves it.
"""

from __future__ import annotations

import dataclasses
import errno
import math
import multiprocessing
import os
import random
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest
import torch
from app_testing import open_app_page
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file
from streamlit.testing.v1 import AppTest

from gan_core.app.deployment import DeploymentSettings, app_threads
from gan_core.app.models import conditional_models, load_model, sample_png
from gan_core.checkpoints import load_generator, load_resume_state
from gan_core.config import FIELD_RULES, TrainConfig, config_from_dict
from gan_core.errors import CheckpointError, ConfigError, GanStudioError
from gan_core.inference import generate
from gan_core.registry import config_for, get_variant
from gan_core.training.jobs import JobManager
from gan_core.training.run_files import RunFiles
from gan_core.training.trainer import Callback, Trainer
from gan_core.training.worker import OUT_OF_MEMORY, run_job
from gan_core.translation import load_translator

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TINY = {"width": 8, "image_size": 16, "batch_size": 8, "noise_dim": 8, "device": "cpu", "sample_every": 1000}


def tiny(steps: int, variant: str = "dcgan", **overrides) -> TrainConfig:
    return config_for(variant, **{**TINY, "steps": steps, "log_every": 1, "checkpoint_every": steps, **overrides})


def temporaries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.tmp"))


# --- a. NaN / Inf ----------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_loss_ends_diverged_naming_step_and_term_and_keeps_last_checkpoint(
        tmp_path, digits16, monkeypatch, bad):
    """From step 5 on the step reports a non-finite G_GAN; the interval 5..6 is flushed at step 6."""
    model_class = get_variant("dcgan").model_class
    honest_step = model_class.train_step
    calls = []

    def poisoned(self, *args, **kwargs):
        values = honest_step(self, *args, **kwargs)
        calls.append(1)
        return {**values, "G_GAN": torch.tensor(bad)} if len(calls) >= 5 else values

    monkeypatch.setattr(model_class, "train_step", poisoned)
    config = tiny(20, log_every=3, checkpoint_every=4)
    result = Trainer(config, tmp_path, dataset=digits16).run()

    assert result.status == "diverged"
    assert f"G_GAN became {bad} at step 5" in result.message
    assert "last good checkpoint is kept" in result.message
    files = RunFiles(tmp_path)
    assert files.read_json(files.status) == {"status": "diverged", "step": 6, "message": result.message}
    loaded = load_generator(files.generator)
    assert loaded.step == 4
    images = generate(loaded, 8, seed=0)
    assert torch.isfinite(images).all()
    assert load_resume_state(files.resume)["step"] == 4
    assert [row["step"] for row in files.read_metrics()] == [3, 4], "no row of the bad interval is logged"


# --- b. SIGKILL at many moments ------------------------------------------------------------------
KILLS = 20
KILL_STEPS = 150


def _train_argv(run_dir: Path, resume: bool) -> list[str]:
    if resume:
        return ["train", "--resume", str(run_dir), "--quiet"]
    return ["train", "--variant", "dcgan", "--out", str(run_dir), "--dataset", "digits", "--image-size", "16",
            "--width", "8", "--batch-size", "8", "--noise-dim", "8", "--steps", str(KILL_STEPS),
            "--checkpoint-every", "1", "--log-every", "1", "--sample-every", "5", "--device", "cpu", "--quiet"]


def _checked_checkpoint(files: RunFiles) -> int:
    """After a kill: whatever checkpoint exists loads; returns the resumable step (0 if none)."""
    resume_step = 0
    if files.resume.is_file():
        state = torch.load(files.resume, map_location="cpu", weights_only=True)
        resume_step = int(state["step"])
    if files.generator.is_file():
        loaded = load_generator(files.generator)
        assert loaded.step <= resume_step, "the generator is never newer than a resumable state"
        assert torch.isfinite(generate(loaded, 2, seed=0)).all()
    rows = [row["step"] for row in files.read_metrics()]
    assert rows == sorted(set(rows)), f"metrics steps repeat or go back: {rows}"
    assert rows[:resume_step] == list(range(1, resume_step + 1)), "every row up to the checkpoint is intact"
    return resume_step


@pytest.mark.slow
def test_sigkill_at_twenty_moments_never_loses_a_checkpoint(tmp_path):
    """The CLI's `train` is run in forked children of a server that imported torch, sklearn and gan_core once,
    so each of the 21 starts costs milliseconds instead of six seconds; it is the same `gan_core.cli.main` a
    shell runs. Each child is killed a varied 0-40 ms after it logs a new step: the log line is written
    just before the step's checkpoint, so most kills land while resume.pt or generator.safetensors is
    being written.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["sklearn.datasets", "gan_core.cli", "gan_core.training.trainer",
                                    "gan_core.data.digits", "gan_core.grids"])
    run_dir = tmp_path / "run"
    files = RunFiles(run_dir)
    delays = random.Random(0)
    kills, before_first_checkpoint, mid_write = 0, 0, 0
    seen_temporaries: set[Path] = set()
    while kills < KILLS:
        resume_step = _checked_checkpoint(files) if run_dir.exists() else 0
        resume = files.resume.is_file()
        if not resume and run_dir.exists():  # killed before any checkpoint: nothing to resume, start again
            before_first_checkpoint += 1
            shutil.rmtree(run_dir)
        child = context.Process(target=_cli_main, args=(_train_argv(run_dir, resume),))
        child.start()
        deadline = time.monotonic() + 60
        kill_after = resume_step + delays.randint(1, 3)
        while not any(row["step"] >= kill_after for row in files.read_metrics()):
            assert child.is_alive(), f"training ended on its own (exit {child.exitcode}) before the kill"
            assert time.monotonic() < deadline, "no progress within a minute"
            time.sleep(0.002)
        time.sleep(delays.uniform(0.0, 0.04))
        child.kill()
        child.join()
        assert child.exitcode == -9
        kills += 1
        left = set(temporaries(run_dir))
        mid_write += bool(left - seen_temporaries)
        seen_temporaries |= left
    final_resume = _checked_checkpoint(files)
    print(f"{kills} kills: {mid_write} while a file was being written, {before_first_checkpoint} before the first "
          f"checkpoint; resumed from step {final_resume}")
    assert 0 < final_resume < KILL_STEPS

    child = context.Process(target=_cli_main, args=(_train_argv(run_dir, resume=True),))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 0
    assert files.read_json(files.status)["status"] == "finished"
    assert load_generator(files.generator).step == KILL_STEPS
    assert load_resume_state(files.resume)["step"] == KILL_STEPS
    assert [row["step"] for row in files.read_metrics()] == list(range(1, KILL_STEPS + 1))
    assert temporaries(run_dir) == [], "half-written files of killed processes are cleaned up on the next start"


def _cli_main(argv: list[str]) -> None:
    """Runs in the forked child; one thread, as a worker on a shared 2-core machine would."""
    from gan_core.cli import main

    torch.set_num_threads(1)
    raise SystemExit(main(argv))


WORKER_STEPS = 60
WORKER_CHECKPOINT_EVERY = 5


def _process_state(pid: int) -> str | None:
    """The kernel's state letter of `pid` (R, S, D, T for stopped, Z, ...); None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2]


def _worker_alive(pid: int) -> bool:
    return _process_state(pid) not in (None, "Z", "X")


def _blocked_opening_a_pipe(pid: int) -> bool:
    """Whether the worker's main thread sleeps in open() of a named pipe, waiting for a reader."""
    try:
        if Path(f"/proc/{pid}/wchan").read_text().strip() == "wait_for_partner":
            return True
        return Path(f"/proc/{pid}/syscall").read_text().split()[0] in ("2", "257")  # open, openat
    except (OSError, IndexError):
        return False


def _hold_next_write(pid: int, temporary: Path, after: int, step_now, every: int, timeout_s: float = 60) -> None:
    """Make the worker's next write of a checkpoint file after step `after` hang half-way, for certain.

    A named pipe is put where `atomic_write` puts that file's temporary: opening a pipe for writing waits
    for a reader, none comes, so the worker sits in the middle of its checkpoint with the temporary on disk
    and the final file untouched, for as long as the test likes. The pipe is laid between two checkpoints
    (`step_now()` past `after` and not a checkpoint step), when no temporary of that name exists."""
    deadline = time.monotonic() + timeout_s
    while True:
        assert _worker_alive(pid), f"the worker ended before step {after}"
        assert time.monotonic() < deadline, f"timed out waiting for step {after}"
        step = step_now()
        if step > after and step % every:
            try:
                os.mkfifo(temporary)
                break
            except FileExistsError:  # the worker is writing a real one right now; lay the pipe after it
                pass
        time.sleep(0.01)
    while not _blocked_opening_a_pipe(pid):
        assert _worker_alive(pid), f"the worker ended before writing {temporary.name}"
        assert time.monotonic() < deadline, f"timed out waiting for the write of {temporary.name}"
        time.sleep(0.01)


def _sigkill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while _worker_alive(pid):  # the job manager's reaper thread collects it
        assert time.monotonic() < deadline, "a SIGKILLed worker did not die"
        time.sleep(0.01)


def _start_worker(jobs: JobManager, job_id: str) -> int:
    """What the app does after Start or Resume: `refresh()` spawns `python -m gan_core.training.worker`."""
    assert jobs.refresh() == [job_id]
    job = jobs.get(job_id)
    assert job.status == "running" and job.pid is not None
    return job.pid


def _interrupted_job_checks(jobs: JobManager, job_id: str) -> int:
    """After a kill: the store says interrupted, the checkpoint loads, metrics up to it are intact.

    Returns the step the resumable state holds."""
    assert jobs.refresh() == [], "nothing else was queued"
    job = jobs.get(job_id)
    assert job.status == "interrupted", (job.status, job.message)
    assert "stopped unexpectedly" in job.message and jobs.can_resume(job)
    files = RunFiles(jobs.run_dir(job_id))
    resume_step = int(load_resume_state(files.resume)["step"])  # weights_only=True inside
    generator = load_generator(files.generator)
    assert generator.step <= resume_step, "the generator is never newer than a resumable state"
    assert torch.isfinite(generate(generator, 2, seed=0)).all()
    for rows in ([row["step"] for row in jobs.metrics(job_id)], [row["step"] for row in files.read_metrics()]):
        assert rows == list(range(1, len(rows) + 1)), f"metric rows repeat, go back or have holes: {rows}"
        assert len(rows) >= resume_step, "every row up to the checkpoint is kept"
    return resume_step


@pytest.mark.slow
def test_sigkilled_app_workers_are_interrupted_and_resume_through_the_job_manager(tmp_path):
    """Real worker processes, started as the app starts them (`JobManager.refresh` spawns a fresh
    `python -m gan_core.training.worker` in its own session), killed with SIGKILL at three moments:

    1. while `resume.pt` is being written, with an older checkpoint on disk: a named pipe where the file's
       temporary goes makes the write hang (see `_hold_next_write`), the kernel is asked that the worker
       waits in that open(), and it is killed there, so the kill lands mid-write for certain;
    2. the same while `generator.safetensors` is being written, after `resume.pt` of that step was replaced;
    3. while the resumed worker is still starting (importing torch), before it touched the job.

    After each: the job is `interrupted`, both checkpoint files load, every metric row up to the checkpoint
    is there once, and `JobManager.resume` + `refresh` carries on; the last resume finishes all the steps with
    each metric row exactly once, in the job's own run folder, and the half-written temporaries are gone.
    A kill between checkpoints is `tests/test_jobs.py::test_killed_worker_is_interrupted_and_resumes_from_checkpoint`;
    each fresh worker costs seconds of imports, so this test starts only three that train.
    """
    started = time.monotonic()
    jobs = JobManager(tmp_path / "runs", max_concurrent=1)
    job_id = jobs.submit(tiny(WORKER_STEPS, checkpoint_every=WORKER_CHECKPOINT_EVERY, log_every=1))
    files = RunFiles(jobs.run_dir(job_id))
    assert files.root == tmp_path / "runs" / job_id

    def temporary(pid: int, name: str) -> Path:  # checkpoints.atomic_write's temporary name
        return files.root / f".{name}.{pid}.tmp"

    # 1. and 2. mid-checkpoint: the temporary of the file being written exists while the worker is frozen
    resume_step = 0
    for name in ("resume.pt", "generator.safetensors"):
        if resume_step:
            jobs.resume(job_id)
        pid = _start_worker(jobs, job_id)
        path, after = temporary(pid, name), max(resume_step, WORKER_CHECKPOINT_EVERY)
        _hold_next_write(pid, path, after, lambda: jobs.get(job_id).step, WORKER_CHECKPOINT_EVERY)
        writing = jobs.get(job_id).step  # the step is logged just before its checkpoint
        _sigkill(pid)
        assert temporary(pid, name).exists(), "the kill landed before the temporary was renamed"
        previous, resume_step = resume_step, _interrupted_job_checks(jobs, job_id)
        assert writing % WORKER_CHECKPOINT_EVERY == 0 and writing > previous
        if name == "resume.pt":
            assert 0 < resume_step < writing, "the state being written is not the one that loads"
            assert load_generator(files.generator).step == resume_step
        else:
            assert resume_step == writing, "resume.pt of this step was complete before the generator"
            assert load_generator(files.generator).step < resume_step

    # 3. while the resumed worker starts: it has not reached the trainer (the job still says "starting")
    jobs.resume(job_id)
    pid = _start_worker(jobs, job_id)
    _sigkill(pid)
    assert jobs.get(job_id).message == "starting", "killed before the worker reported anything"
    assert _interrupted_job_checks(jobs, job_id) == resume_step, "an aborted start changes no checkpoint"

    jobs.resume(job_id)
    pid = _start_worker(jobs, job_id)
    deadline = time.monotonic() + 120
    while jobs.get(job_id).status == "running":
        assert time.monotonic() < deadline, jobs.log_tail(job_id)
        time.sleep(0.1)
    job = jobs.get(job_id)
    assert (job.status, job.step) == ("finished", WORKER_STEPS), jobs.log_tail(job_id)
    assert jobs.log_tail(job_id, lines=200).rsplit("from step ", 1)[1].split()[0] == str(resume_step)
    assert [row["step"] for row in jobs.metrics(job_id)] == list(range(1, WORKER_STEPS + 1))
    assert [row["step"] for row in files.read_metrics()] == list(range(1, WORKER_STEPS + 1))
    assert load_generator(files.generator).step == WORKER_STEPS
    assert load_resume_state(files.resume)["step"] == WORKER_STEPS
    assert temporaries(files.root) == [], "half-written files of killed workers are removed on the next start"
    assert [path.name for path in (tmp_path / "runs").iterdir() if path.is_dir()] == [job_id]
    print(f"worker kills: mid-write of both checkpoint files, at start-up; last resumed from step {resume_step}; "
          f"{time.monotonic() - started:.0f} s")


# --- c. disk full, out of memory -----------------------------------------------------------------
class _CopyCheckpoints(Callback):
    """Keeps the bytes of every checkpoint as it was written, to compare after a failed later write."""

    def __init__(self, files: RunFiles) -> None:
        self.files = files
        self.saved: dict[int, tuple[bytes, bytes]] = {}

    def on_checkpoint(self, step: int) -> None:
        self.saved[step] = (self.files.generator.read_bytes(), self.files.resume.read_bytes())


@pytest.mark.parametrize("failing", ["generator", "resume"])
def test_disk_full_during_a_later_checkpoint_keeps_the_previous_one_and_fails_clearly(
        tmp_path, digits16, monkeypatch, failing):
    """The second checkpoint's writer writes half a file and then meets ENOSPC."""
    honest_write_bytes, honest_torch_save = Path.write_bytes, torch.save
    writes = 0

    def disk_fills_on_the_second_write(target: Path) -> None:
        nonlocal writes
        writes += 1
        if writes > 1:
            honest_write_bytes(target, b"half a checkpoint")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    def write_bytes(path: Path, data: bytes) -> int:  # how checkpoints.write_safetensors writes
        if path.name.startswith(".generator.safetensors."):
            disk_fills_on_the_second_write(path)
        return honest_write_bytes(path, data)

    def save(obj, target, *args, **kwargs):
        disk_fills_on_the_second_write(Path(target))
        return honest_torch_save(obj, target, *args, **kwargs)

    if failing == "generator":
        monkeypatch.setattr(Path, "write_bytes", write_bytes)
    else:
        monkeypatch.setattr(torch, "save", save)
    files = RunFiles(tmp_path)
    copies = _CopyCheckpoints(files)
    config = tiny(6, checkpoint_every=2)
    result = Trainer(config, tmp_path, [copies], dataset=digits16).run()

    file_name = {"generator": "generator.safetensors", "resume": "resume.pt"}[failing]
    assert result.status == "failed"
    assert f"could not write {file_name}" in result.message
    assert "No space left on device" in result.message and "previous checkpoint is intact" in result.message
    assert files.read_json(files.status) == {"status": "failed", "step": 4, "message": result.message}
    assert list(copies.saved) == [2]
    generator_bytes, resume_bytes = copies.saved[2]
    assert files.generator.read_bytes() == generator_bytes
    if failing == "resume":
        assert files.resume.read_bytes() == resume_bytes
    assert load_generator(files.generator).step == 2
    assert temporaries(tmp_path) == []

    monkeypatch.undo()  # space freed: the run resumes from its last resumable state and finishes
    resumed = Trainer(config, tmp_path, dataset=digits16).run(resume=True)
    assert (resumed.status, resumed.step) == ("finished", 6)


@pytest.mark.parametrize("error", [
    torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
                 "you tried to allocate 1000000000000 bytes. Error code 12 (Cannot allocate memory)"),
], ids=["cuda", "cpu"])
def test_out_of_memory_in_a_step_is_reported_as_advice(tmp_path, monkeypatch, error):
    """Runs the worker's own `run_job` in this process, with the variant's step raising what torch raises."""

    def exhausted(self, *args, **kwargs):
        raise error

    monkeypatch.setattr(get_variant("dcgan").model_class, "train_step", exhausted)
    jobs = JobManager(tmp_path)
    job_id = jobs.submit(tiny(3))
    assert run_job(tmp_path, job_id) == "failed"
    job = jobs.get(job_id)
    assert (job.status, job.message) == ("failed", OUT_OF_MEMORY)
    assert OUT_OF_MEMORY == "out of memory: try a smaller batch or image size"


def test_invalid_hyperparameters_never_reach_a_worker(tmp_path):
    jobs = JobManager(tmp_path)
    with pytest.raises(ConfigError, match=r"Generator learning rate \(lr_g\) must be a number from 1e-07 to 1; got inf"):
        jobs.submit(tiny(3).replace(lr_g=float("inf")))
    assert jobs.list_jobs() == []


# --- d. the config validator on arbitrary data -----------------------------------------------------
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.sampled_from(["1", "0.5", "true", "nan", "inf", "-1", "1e400", "9" * 5000, "adam", "cpu", "hinge"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=5,
)
FIELD_NAMES = [f.name for f in dataclasses.fields(TrainConfig)]


def _within_rules(config: TrainConfig) -> None:
    for name, rule in FIELD_RULES.items():
        value = getattr(config, name)
        if name == "data_root" and value is None:
            continue
        assert type(value) is rule.kind, (name, value)
        if rule.choices is not None:
            assert value in rule.choices, (name, value)
        if rule.low is not None:
            assert rule.low <= value <= rule.high, (name, value)
            assert not (isinstance(value, float) and not math.isfinite(value))
    assert isinstance(config.extra, dict)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(FIELD_NAMES), JSON_VALUES, max_size=6))
@example({"lr_g": 10**400})  # float() of it overflows
@example({"steps": 10**5000})  # too long even to repr in a message
@example({"extra": [1]})
def test_config_from_arbitrary_json_is_valid_or_a_config_error_naming_the_field(data):
    try:
        config = config_from_dict(data)
    except ConfigError as error:
        # A refused value names its field in the form's words ("Batch size ...") and carries it as `error.field`.
        assert error.field in data or any(name in str(error) for name in data), f"{error} names none of {sorted(data)}"
        assert len(str(error)) < 400
    else:
        _within_rules(config)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=4))
def test_unknown_field_names_are_a_config_error_listing_them(data):
    unknown = sorted(set(data) - set(FIELD_NAMES))
    try:
        config_from_dict(data)
    except ConfigError as error:
        if unknown:
            assert ", ".join(unknown) in str(error)
    else:
        assert not unknown


# --- e. foreign and hostile checkpoints ----------------------------------------------------------
@pytest.fixture(scope="module")
def dcgan_run(tmp_path_factory, digits16) -> RunFiles:
    run_dir = tmp_path_factory.mktemp("dcgan16")
    Trainer(tiny(1), run_dir, dataset=digits16).run()
    return RunFiles(run_dir)


def _relabelled(source: Path, target: Path, **changes: str) -> Path:
    """The same weights with some metadata fields changed: a checkpoint claiming to be something else."""
    from safetensors import safe_open

    with safe_open(str(source), framework="pt") as handle:
        metadata = dict(handle.metadata())
    metadata.update(changes)
    save_file(load_file(str(source)), str(target), metadata=metadata)
    return target


def test_checkpoint_of_another_variant_is_refused_naming_what_differs(dcgan_run, tmp_path):
    config = config_for("cgan", **TINY, steps=1).to_json()
    path = _relabelled(dcgan_run.generator, tmp_path / "claims-cgan.safetensors", variant="cgan", config=config)
    with pytest.raises(CheckpointError, match=r"claims-cgan.safetensors \(cgan\) does not match the architecture"):
        load_generator(path)


def test_checkpoint_of_another_image_shape_is_refused_naming_the_shapes(dcgan_run, tmp_path):
    path = _relabelled(dcgan_run.generator, tmp_path / "claims-32px.safetensors", image_shape="[1, 32, 32]")
    with pytest.raises(CheckpointError, match=r"mismatched shapes .*\(8, 1, 4, 4\)|mismatched shapes"):
        load_generator(path)


def test_pages_never_offer_or_load_a_generator_of_the_wrong_kind(dcgan_run, tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    shutil.copy(dcgan_run.generator, shipped / "dcgan-digits.safetensors")
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(shipped))
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    assert conditional_models() == [], "the Conditional page lists only CGAN/ACGAN checkpoints"
    with pytest.raises(CheckpointError, match="is a dcgan generator: it samples noise, it does not translate"):
        load_translator(dcgan_run.generator)


def test_home_page_with_the_shipped_checkpoints_shows_no_exception(tmp_path, monkeypatch):
    """The Home page over the checkpoints this repository ships, which include pix2pix-gray2color."""
    monkeypatch.delenv("GAN_STUDIO_CHECKPOINTS", raising=False)
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    assert (Path(APP).parent / "checkpoints" / "pix2pix-gray2color.safetensors").is_file()
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, [str(error.value) for error in at.exception]


def test_resume_state_of_another_architecture_is_refused(dcgan_run, tmp_path, digits16):
    shutil.copy(dcgan_run.resume, tmp_path / "resume.pt")
    with pytest.raises(CheckpointError, match="resume state does not fit this run's config"):
        Trainer(tiny(3, width=16), tmp_path, dataset=digits16).run(resume=True)


def test_safetensors_without_our_metadata_and_random_bytes_are_checkpoint_errors(tmp_path):
    plain = tmp_path / "plain.safetensors"
    save_file({"weight": torch.zeros(2)}, str(plain))
    with pytest.raises(CheckpointError, match="not a GAN Studio checkpoint"):
        load_generator(plain)
    noise = tmp_path / "noise.safetensors"
    noise.write_bytes(random.Random(0).randbytes(4096))
    with pytest.raises(CheckpointError, match="is not a safetensors file"):
        load_generator(noise)
    with pytest.raises(CheckpointError, match="cannot be read safely"):
        load_resume_state(noise)
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError):
        load_generator(empty)


class _TouchOnUnpickle:
    """Unpickling this calls os.open(marker, O_CREAT): a stand-in for arbitrary code execution."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.open, (str(self.marker), os.O_CREAT | os.O_WRONLY))


@pytest.mark.parametrize("name", ["generator.safetensors", "resume.pt"])
def test_a_pickle_with_a_payload_is_refused_and_never_runs(tmp_path, name):
    marker = tmp_path / "marker"
    path = tmp_path / name
    torch.save({"step": 3, "payload": _TouchOnUnpickle(marker)}, path)
    assert not marker.exists()
    with pytest.raises(CheckpointError):
        load_generator(path)
    with pytest.raises(CheckpointError, match="cannot be read safely"):
        load_resume_state(path)
    assert not marker.exists()


# --- f. many users ----------------------------------------------------------------------------------
@pytest.fixture
def conditional_env(tmp_path_factory, digits16, monkeypatch, tmp_path):
    shipped = tmp_path_factory.mktemp("shipped")
    run_dir = tmp_path_factory.mktemp("cgan16")
    Trainer(tiny(2, "cgan"), run_dir, dataset=digits16).run()
    shutil.copy(run_dir / "generator.safetensors", shipped / "cgan-digits.safetensors")
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(shipped))
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))


@pytest.mark.slow
def test_ten_sessions_browse_and_sample_while_three_queue_jobs(conditional_env, tmp_path):
    """Ten sessions sample on the Conditional page while three sessions share one queue of workers.

    AppTest mocks Streamlit's Runtime as a process-wide singleton and tears it down after each run, so two
    AppTest runs cannot overlap in one process (that is the harness, not the app): the ten sessions live in
    ten threads with their own state and take turns to run. What a real server does run in parallel, the
    sampling on one cached generator, is exercised by ten threads at once and compared with a serial run.
    """
    failures: list[str] = []
    harness = threading.Lock()

    def browse(index: int) -> None:
        try:
            at = AppTest.from_file(APP, default_timeout=120)
            at.switch_page("app_pages/conditional.py")
            for change in (None, ("conditional.seed", index), ("conditional.labels", [index % 10])):
                if change is not None:
                    key, value = change
                    (at.number_input if key.endswith("seed") else at.multiselect)(key=key).set_value(value)
                with harness:
                    at.run()
                if at.exception:
                    failures.append(f"session {index}: {at.exception}")
                    return
            if len(at.get("image")) != 2:
                failures.append(f"session {index}: {len(at.get('image'))} images")
        except Exception as error:  # a crash in a thread must fail the test, not vanish
            failures.append(f"session {index}: {type(error).__name__}: {error}")

    model = load_model(str(conditional_models()[0].path))
    expected = [sample_png(model, 4, seed, columns=4, labels=seed % 10) for seed in range(10)]
    sampled: dict[int, bytes] = {}

    def sample(seed: int) -> None:
        sampled[seed] = sample_png(model, 4, seed, columns=4, labels=seed % 10)

    jobs = JobManager(tmp_path / "queue", max_concurrent=1)
    submitted = {jobs.submit(tiny(4 + index), session=f"s{index}"): 4 + index for index in range(3)}
    threads = [threading.Thread(target=browse, args=(index,)) for index in range(10)]
    threads += [threading.Thread(target=sample, args=(seed,)) for seed in range(10)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 240
    while any(jobs.get(job_id).status in ("queued", "running") for job_id in submitted):
        jobs.refresh()
        assert jobs.count_running() <= 1, "the queue ran more jobs than max_concurrent"
        assert time.monotonic() < deadline, "the queue did not drain"
        time.sleep(0.1)
    for thread in threads:
        thread.join(timeout=240)
    assert failures == []
    assert [sampled[seed] for seed in range(10)] == expected, "concurrent sampling gives the serial pictures"
    assert len(set(submitted)) == 3
    for job_id, steps in submitted.items():
        job = jobs.get(job_id)
        assert job.status == "finished", jobs.log_tail(job_id)
        assert [row["step"] for row in jobs.metrics(job_id)] == list(range(1, steps + 1)), "rows of one job only"
        assert load_generator(jobs.generator_path(job_id)).step == steps


def test_jobs_per_session_limit_counts_only_that_sessions_active_jobs(tmp_path):
    jobs = JobManager(tmp_path, jobs_per_session=1)
    first = jobs.submit(tiny(3), session="alice")
    with pytest.raises(GanStudioError, match="already has 1 queued or running job"):
        jobs.submit(tiny(3), session="alice")
    jobs.submit(tiny(3), session="bob")
    jobs.cancel(first)
    jobs.submit(tiny(3), session="alice")
    assert len(jobs.list_jobs(session="alice")) == 2


# --- deployment settings -----------------------------------------------------------------------------
def test_app_threads_default_to_half_the_cores_and_can_be_set(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert app_threads({}) == 8 and app_threads({"GAN_STUDIO_APP_THREADS": "3"}) == 3
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert app_threads({}) == 1
    with pytest.raises(ConfigError, match="GAN_STUDIO_APP_THREADS must be a positive whole number"):
        app_threads({"GAN_STUDIO_APP_THREADS": "0"})


def test_deployment_settings_from_env():
    assert DeploymentSettings.from_env({}) == DeploymentSettings(False, 20, None)
    assert DeploymentSettings.from_env({"GAN_STUDIO_PUBLIC": "1", "GAN_STUDIO_MAX_UPLOAD_MB": "5",
                                        "GAN_STUDIO_JOBS_PER_SESSION": "2"}) == DeploymentSettings(True, 5, 2)
    assert DeploymentSettings(max_upload_mb=5).max_upload_bytes == 5 * 1024 * 1024
    with pytest.raises(ConfigError, match="GAN_STUDIO_JOBS_PER_SESSION must be a positive whole number"):
        DeploymentSettings.from_env({"GAN_STUDIO_JOBS_PER_SESSION": "lots"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        DeploymentSettings().public = True  # type: ignore[misc]


def test_streamlit_upload_cap_lets_too_large_pictures_reach_our_worded_refusal():
    """A file over Streamlit's cap is refused in the browser with only a hover chip; ours says why on the page."""
    import tomllib

    from gan_core.uploads import DEFAULT_MAX_BYTES

    config = tomllib.loads((Path(APP).parent / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024 * 1024 >= 5 * DEFAULT_MAX_BYTES
    assert DeploymentSettings().max_upload_bytes == DEFAULT_MAX_BYTES


def _page(path: str) -> AppTest:
    return open_app_page(path)


def test_public_server_hides_training_and_official_import(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_PUBLIC", "1")
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path / "none"))
    train = _page("app_pages/train.py")
    assert any("Training is turned off on this public server" in info.value for info in train.info)
    assert not [button for button in train.button if "Start training" in str(button.label)]
    assert not [box for box in train.selectbox if box.key == "variant"]

    translate = _page("app_pages/translate.py")
    assert any("Importing official .pth generators is turned off" in info.value for info in translate.info)
    assert translate.radio(key="translate.source").options == ["A GAN Studio model"]


def test_private_server_keeps_training_and_official_import(tmp_path, monkeypatch):
    monkeypatch.delenv("GAN_STUDIO_PUBLIC", raising=False)
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path / "none"))
    train = _page("app_pages/train.py")
    assert not [info for info in train.info if "public server" in info.value]
    assert [box for box in train.selectbox if box.key == "variant"]
    translate = _page("app_pages/translate.py")
    assert len(translate.radio(key="translate.source").options) == 2


def test_jobs_per_session_reaches_the_train_page(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_JOBS_PER_SESSION", "1")
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_STUDIO_MAX_JOBS", "0")  # queue only: nothing starts, so the limit is what we see
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/train.py")
    at.session_state["session_id"] = "alice"  # before app_shell.open_app would draw a fresh one
    at.run()
    at.number_input(key="dcgan.steps").set_value(2)
    submit = next(button for button in at.button if "Start training" in str(button.label))
    submit.click().run()
    assert at.success, [error.value for error in at.error]
    submit = next(button for button in at.button if "Start training" in str(button.label))
    submit.click().run()
    assert any("already has 1 queued or running job" in error.value for error in at.error)
