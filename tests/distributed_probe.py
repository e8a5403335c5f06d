"""Runs `gan_core.cli.main(["train", ...])` several times in one torchrun process group, watching every rank.

tests/test_distributed.py launches it as
    python -m torch.distributed.run --standalone --nproc-per-node 2 tests/distributed_probe.py PLAN.json
because starting torchrun and importing torch twice costs tens of seconds on the shared CI machine: one group
serves every run of the plan. The code under test is the CLI exactly as torchrun runs it; the probe only adds
what a test needs to see from outside:

- after every optimizer step (a global post-hook, outside the code under test), the SHA-256 of that
  optimizer's parameters on this rank, one JSON line per step in DIGESTS/<run>-rank<R>.jsonl;
- a run marked `per_rank_cwd` starts in BASE/rank<R>/ with a relative --out, so anything a rank other than 0
  wrote lands under its own folder, which the test expects to find empty;
- a run marked `fixed_inputs` draws its real images and noise from one fixed global batch, each rank its own
  slice (rank r of world w takes rows r·B .. (r+1)·B of a w·B batch), and also saves the parameters and
  averaged gradients after each step: one process with batch 2B sees the same rows as two ranks with B.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.distributed as dist
from torch.optim.optimizer import register_optimizer_step_post_hook

FIXED_REAL_SEED, FIXED_NOISE_SEED = 11, 12


def parameters_digest(optimizer: torch.optim.Optimizer) -> str:
    digest = hashlib.sha256()
    for group in optimizer.param_groups:
        for parameter in group["params"]:
            digest.update(parameter.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


@contextlib.contextmanager
def recording(digests: Path, save_tensors: bool = False) -> Iterator[None]:
    """Record every optimizer step's parameter digest (and, if asked, its parameters and gradients)."""
    digests.parent.mkdir(parents=True, exist_ok=True)
    steps: list[dict] = []

    def after_step(optimizer: torch.optim.Optimizer, args: tuple, kwargs: dict) -> None:
        steps.append({"digest": parameters_digest(optimizer)})
        if save_tensors:
            params = [p for group in optimizer.param_groups for p in group["params"]]
            torch.save({"params": [p.detach().cpu().clone() for p in params],
                        "grads": [p.grad.detach().cpu().clone() for p in params if p.grad is not None]},
                       digests.with_name(f"{digests.stem}-step{len(steps)}.pt"))

    handle = register_optimizer_step_post_hook(after_step)
    try:
        yield
    finally:
        handle.remove()
        digests.write_text("".join(json.dumps(step) + "\n" for step in steps))


@contextlib.contextmanager
def fixed_inputs(rank: int, world_size: int) -> Iterator[None]:
    """Real images and noise from one fixed global batch, this rank's slice of it.

    Batch norm over features and dropout pass their input through unchanged meanwhile: statistics of each rank's
    half batch and each rank's own dropout masks make two ranks of B differ from one process of 2B by
    construction (the MLP GAN has both); what the equivalence tests is how gradients are averaged."""
    from torch import nn

    from gan_core.data.types import BatchSampler
    from gan_core.latent import LatentLayout

    def rows(batch: int) -> slice:
        return slice(rank * batch, (rank + 1) * batch)

    def real_batch(sampler: BatchSampler):
        b = sampler.batch_size
        generator = torch.Generator().manual_seed(FIXED_REAL_SEED)
        images = torch.rand((world_size * b, *sampler.images.shape[1:]), generator=generator) * 2 - 1
        return images[rows(b)].to(sampler.device), None

    original_parts = LatentLayout.sample_parts

    def noise_parts(layout: LatentLayout, n: int, device: torch.device, rng: torch.Generator | None = None):
        if rng is not None:  # previews and standing statistics keep their own fixed seeds
            return original_parts(layout, n, device, rng)
        generator = torch.Generator().manual_seed(FIXED_NOISE_SEED)
        return {"noise": torch.randn(world_size * n, layout.noise_dim, generator=generator)[rows(n)].to(device)}

    saved_call = BatchSampler.__call__
    saved_norm, saved_dropout = nn.BatchNorm1d.forward, nn.Dropout.forward
    BatchSampler.__call__ = real_batch
    LatentLayout.sample_parts = noise_parts
    nn.BatchNorm1d.forward = nn.Dropout.forward = lambda self, inputs: inputs
    try:
        yield
    finally:
        BatchSampler.__call__ = saved_call
        LatentLayout.sample_parts = original_parts
        nn.BatchNorm1d.forward, nn.Dropout.forward = saved_norm, saved_dropout


def run_plan(plan: dict) -> None:
    from gan_core.cli import main

    rank, world_size = dist.get_rank(), dist.get_world_size()
    base = Path(plan["base"])
    home = Path.cwd()
    for run in plan["runs"]:
        digests = base / "digests" / f"{run['name']}-rank{rank}.jsonl"
        workdir = base / f"rank{rank}" if run.get("per_rank_cwd") else home
        workdir.mkdir(parents=True, exist_ok=True)
        os.chdir(workdir)
        with recording(digests, save_tensors=run.get("fixed_inputs", False)), \
                (fixed_inputs(rank, world_size) if run.get("fixed_inputs") else contextlib.nullcontext()):
            status = main(run["argv"])
        os.chdir(home)
        if status != 0:
            raise SystemExit(f"rank {rank}: {run['name']} ended with status {status}")
        dist.barrier()


if __name__ == "__main__":
    dist.init_process_group("gloo")
    try:
        run_plan(json.loads(Path(sys.argv[1]).read_text()))
    finally:
        dist.destroy_process_group()
