"""Distributed training (#24): real torchrun, two Gloo processes on the CPU, the CLI exactly as users run it.

Starting torchrun costs tens of seconds on the shared CI machine, so ONE launch of tests/distributed_probe.py
runs every multi-process run of this module in one process group (see its docstring for what it records);
the one-process runs they are compared with run in this process. The tests below then read what it left.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from distributed_probe import fixed_inputs, recording
from PIL import Image

from gan_core.checkpoints import load_resume_state
from gan_core.cli import main
from gan_core.config import TrainConfig
from gan_core.errors import ConfigError
from gan_core.registry import get_variant
from gan_core.training.distributed import World, check_can_distribute, rank_seed, torchrun_command

REPO = Path(__file__).resolve().parents[1]
PROBE = REPO / "tests" / "distributed_probe.py"
TINY = ["--image-size", "16", "--width", "8", "--batch-size", "4", "--device", "cpu", "--quiet",
        "--log-every", "1", "--sample-every", "2", "--checkpoint-every", "2", "--precision", "fp32"]
VARIANT_RUNS = {
    "dcgan": ["--variant", "dcgan", "--dataset", "digits", "--steps", "3", "--noise-dim", "8"],
    "cgan": ["--variant", "cgan", "--dataset", "digits", "--steps", "3", "--noise-dim", "8"],
    "wgan_gp": ["--variant", "wgan_gp", "--dataset", "digits", "--steps", "2", "--n-critic", "2", "--noise-dim", "8"],
    "cyclegan": ["--variant", "cyclegan", "--dataset", "translation_folder", "--steps", "2", "--batch-size", "1", "--image-size", "32"],
}
OPTIMIZER_STEPS = {"dcgan": 3 * 2, "cgan": 3 * 2, "wgan_gp": 2 * (2 + 1), "cyclegan": 2 * 2}
EQUIVALENCE = ["--variant", "gan", "--dataset", "digits", "--steps", "1", "--width", "16", "--noise-dim", "8", "--out", "{out}"]
PER_RANK_BATCH = 4


def _tiny_unpaired_folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for domain in ("trainA", "trainB"):
        (root / domain).mkdir(parents=True)
        for index in range(3):
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(root / domain / f"{index}.png")
    return root


def _train(*argv: str) -> None:
    assert main(["train", *TINY, *argv]) == 0


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> Path:
    """Every two-rank run of this module in one torchrun launch, with the one-process runs around it."""
    base = tmp_path_factory.mktemp("distributed")
    pairs = _tiny_unpaired_folder(base / "pairs")
    (base / "cyclegan.json").write_text(json.dumps({"extra": {"n_blocks": 1}, "data_root": str(pairs)}))
    variant_argv = {**VARIANT_RUNS, "cyclegan": [*VARIANT_RUNS["cyclegan"], "--config", str(base / "cyclegan.json")]}
    # One process before the launch: the reference of the equivalence, and a run that two ranks resume.
    with recording(base / "digests" / "equivalence-one-process.jsonl", save_tensors=True), fixed_inputs(0, 1):
        _train(*[a.format(out=base / "equivalence-one") for a in EQUIVALENCE], "--batch-size", str(2 * PER_RANK_BATCH))
    _train("--variant", "dcgan", "--dataset", "digits", "--noise-dim", "8", "--steps", "2", "--out", str(base / "one-then-two"))
    runs = [{"name": variant, "per_rank_cwd": True, "argv": ["train", *TINY, *argv, "--out", f"run-{variant}"]}
            for variant, argv in variant_argv.items()]
    dcgan = ["train", *TINY, "--variant", "dcgan", "--dataset", "digits", "--noise-dim", "8"]
    runs += [
        {"name": "equivalence", "fixed_inputs": True,
         "argv": ["train", *TINY, *[a.format(out=base / "equivalence-two") for a in EQUIVALENCE]]},
        {"name": "one-then-two", "argv": ["train", "--quiet", "--resume", str(base / "one-then-two"), "--steps", "4"]},
        {"name": "straight", "argv": [*dcgan, "--steps", "4", "--out", str(base / "straight")]},
        {"name": "stopped", "argv": [*dcgan, "--steps", "2", "--out", str(base / "stopped")]},
        {"name": "stopped-resumed", "argv": ["train", "--quiet", "--resume", str(base / "stopped"), "--steps", "4"]},
    ]
    plan = base / "plan.json"
    plan.write_text(json.dumps({"base": str(base), "runs": runs}))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    launched = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                               str(PROBE), str(plan)], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert launched.returncode == 0, launched.stdout[-3000:] + launched.stderr[-3000:]
    # One process after: it resumes what two ranks saved (the state at step 4 is kept for the comparison).
    shutil.copy(base / "stopped" / "resume.pt", base / "stopped-resumed-at-4.pt")
    assert main(["train", "--quiet", "--resume", str(base / "stopped"), "--steps", "6"]) == 0
    return base


def _digests(base: Path, run: str, rank: int) -> list[str]:
    return [json.loads(line)["digest"] for line in (base / "digests" / f"{run}-rank{rank}.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("variant", list(VARIANT_RUNS))
def test_parameters_are_identical_on_both_ranks_after_every_optimizer_step(probe, variant):
    rank0, rank1 = _digests(probe, variant, 0), _digests(probe, variant, 1)
    assert len(rank0) == OPTIMIZER_STEPS[variant]
    assert rank0 == rank1
    assert len(set(rank0)) == len(rank0), "every step changes the parameters it updates"


@pytest.mark.parametrize("variant", list(VARIANT_RUNS))
def test_only_rank_zero_writes_the_run_folder(probe, variant):
    written = probe / "rank0" / f"run-{variant}"
    assert (written / "generator.safetensors").is_file() and (written / "resume.pt").is_file()
    assert json.loads((written / "status.json").read_text())["status"] == "finished"
    steps = [json.loads(line)["step"] for line in (written / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, int(VARIANT_RUNS[variant][VARIANT_RUNS[variant].index("--steps") + 1]) + 1))
    assert list((probe / "rank1").iterdir()) == []


def test_two_ranks_of_batch_b_take_the_step_one_process_takes_with_batch_2b(probe):
    """One step of the MLP GAN (its batch norm and dropout passed through, see `fixed_inputs`): D's update, then
    G's, each on the same rows of one global batch."""
    for optimizer_step in (1, 2):
        one = torch.load(probe / "digests" / f"equivalence-one-process-step{optimizer_step}.pt", weights_only=True)
        for rank in (0, 1):
            two = torch.load(probe / "digests" / f"equivalence-rank{rank}-step{optimizer_step}.pt", weights_only=True)
            assert len(one["grads"]) == len(two["grads"]) > 0
            for single, averaged in zip(one["grads"], two["grads"]):
                torch.testing.assert_close(averaged, single, rtol=1e-5, atol=1e-7)
            for single, averaged in zip(one["params"], two["params"]):
                torch.testing.assert_close(averaged, single, rtol=1e-5, atol=1e-7)


def test_a_two_rank_run_resumes_on_one_process(probe):
    run = probe / "stopped"
    assert json.loads((run / "status.json").read_text()) == {"status": "finished", "step": 6, "message": "finished 6 steps"}
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3, 4, 5, 6]
    assert "world_size" not in load_resume_state(run / "resume.pt")  # saved by one process now


def test_a_one_process_run_resumes_on_two_ranks(probe):
    run = probe / "one-then-two"
    assert json.loads((run / "status.json").read_text())["step"] == 4
    state = load_resume_state(run / "resume.pt")
    assert state["world_size"] == 2 and len(state["rng_cpu_ranks"]) == 2
    assert not torch.equal(state["rng_cpu_ranks"][0], state["rng_cpu_ranks"][1]), "ranks draw different noise and data"
    assert _digests(probe, "one-then-two", 0) == _digests(probe, "one-then-two", 1)
    assert len(_digests(probe, "one-then-two", 0)) == 2 * 2


def test_resuming_on_the_same_world_size_reproduces_the_uninterrupted_run(probe):
    straight, resumed = load_resume_state(probe / "straight" / "resume.pt"), load_resume_state(probe / "stopped-resumed-at-4.pt")
    assert straight["step"] == resumed["step"] == 4
    for name, tensor in straight["model"].items():
        assert torch.equal(tensor, resumed["model"][name]), name


# --- without torchrun -------------------------------------------------------------------------------------
def test_a_run_of_one_is_not_distributed_and_keeps_its_random_stream():
    world = World.current()
    assert (world.rank, world.size, world.distributed) == (0, 1, False)
    torch.manual_seed(3)
    world.seed(3)
    assert torch.equal(torch.get_rng_state(), torch.manual_seed(3).get_state())


def test_rank_seeds_differ_by_rank_world_size_and_step_and_repeat():
    seeds = {rank_seed(0, rank, size, step) for rank in range(4) for size in (2, 4) for step in (0, 10)}
    assert len(seeds) == 16
    assert rank_seed(5, 1, 2, 3) == rank_seed(5, 1, 2, 3)


def test_a_variant_that_cannot_run_distributed_is_refused_with_its_reason(monkeypatch, capsys, tmp_path):
    import dataclasses

    import gan_core.registry as registry

    single = dataclasses.replace(get_variant("dcgan"), distributed=False, single_process_reason="its step samples rollouts")
    with pytest.raises(ConfigError, match="dcgan trains as one process only: its step samples rollouts"):
        check_can_distribute(single, 2)
    check_can_distribute(single, 1)
    monkeypatch.setattr(registry, "get_variant", lambda name: single)
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["train", *TINY, "--variant", "dcgan", "--dataset", "digits", "--out", str(tmp_path / "run")]) == 2
    assert "trains as one process only" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_sync_batch_norm_is_refused_on_the_cpu_with_a_message():
    from gan_core.training.distributed import use_sync_batch_norm

    model = get_variant("dcgan").model_class(TrainConfig(image_size=16, width=8), (1, 16, 16), 10)
    use_sync_batch_norm(model, World(), torch.device("cpu"))  # one process: nothing to synchronise
    with pytest.raises(ConfigError, match="SyncBatchNorm does not run on the CPU"):
        use_sync_batch_norm(model, World(rank=0, size=2), torch.device("cpu"))


def test_torchrun_commands_for_one_and_several_nodes():
    assert torchrun_command(2, ["train", "--variant", "dcgan"]) == \
        "torchrun --standalone --nproc-per-node 2 -m gan_core train --variant dcgan"
    assert torchrun_command(8, ["train"], nodes=2, node_rank=1, master="10.0.0.1") == (
        "torchrun --nnodes 2 --node-rank 1 --master-addr 10.0.0.1 --master-port 29500 --nproc-per-node 8 -m gan_core train")
    with pytest.raises(ConfigError):
        torchrun_command(2, ["train"], nodes=2, node_rank=2)
