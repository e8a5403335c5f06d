"""Training as several processes (torchrun): one rank per process, gradients averaged before every update.

How a run becomes distributed
-----------------------------
`torchrun` starts the same command (`python -m gan_core train ...` or the job worker) N times and tells
each copy who it is in the environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT). `World.from_environment`
reads those and joins the process group: NCCL when the device is CUDA (one GPU per local rank), Gloo on the
CPU. Without those variables, or with WORLD_SIZE=1, nothing is initialised and the trainer runs exactly as
a single process always did.

Why gradients are averaged at each optimizer's step and not by DistributedDataParallel wrappers
-----------------------------------------------------------------------------------------------
DDP all-reduces during `backward()` and expects one forward per backward per wrapped module. A GAN step breaks
that contract in every variant in its own way: D runs on reals and on fakes in separate passes before one
backward; G's backward runs through a frozen D; ACGAN/InfoGAN's Q heads share D's trunk; CycleGAN updates two
generators with one optimizer; WGAN-GP backpropagates through a gradient (double backward), which DDP's
reducer does not support; networks whose parameters get no gradient in a step need `find_unused_parameters`;
DDP re-broadcasts buffers on every forward; and wrapped modules put `module.` in front of every state-dict key.
Each of these has a workaround, but each workaround is per variant, and new variants are written all the time.

What DDP computes is simple: every parameter's gradient, averaged over ranks, before the update. We do exactly
that at the one place every variant already goes through: `Optimizer.step`. A step pre-hook on each optimizer
(`average_gradients_before_step`) flattens the gradients it is about to apply into buckets, all-reduces them
and divides by the world size. Whatever a variant does between `zero_grad()` and `step()` (several forwards,
double backward, frozen networks, extra heads) is then correct with no per-variant code; the networks stay
unwrapped, so state dicts, checkpoints and `load_generator` are unchanged; weight clipping after a step and
EMA updates see identical weights on every rank. The price: communication does not overlap the backward pass
as DDP's buckets do. On the CPU that overlap is worth nothing (the cores are busy computing); on GPUs it is
measured by `benchmarks/distributed.py` (BENCHMARKS.md).

Every rank starts from rank 0's weights (`broadcast_parameters`) and applies the same averaged gradients, so
parameters stay bitwise identical after every step: tests/test_distributed.py checks it after every optimizer
step. Buffers (batch-norm running statistics) are only used when sampling, which rank 0 alone does; they are
made identical (rank 0's, as DDP's buffer broadcast does) before each checkpoint, so resuming on any number
of processes starts from the same state.

Batch size is per process
-------------------------
`batch_size` is what each rank draws per step, so the global batch is batch_size × processes. That is what
torchrun users expect (one GPU's memory bounds batch_size, as in StudioGAN and PyTorch's DDP examples), it
keeps batch-norm statistics per step the same as a one-process run, and it is what "2 ranks × B equals
1 process × 2B" means. Learning rates are not scaled; the Train page and the CLI say so.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn

from gan_core.errors import ConfigError

BUCKET_BYTES = 25 * 1024 * 1024
"""Gradients are all-reduced in flat buckets of at most this size (DDP's default `bucket_cap_mb`): one call
per bucket instead of one per tensor, without doubling the memory of a large model's gradients at once."""

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


def torchrun_world_size() -> int:
    """WORLD_SIZE as torchrun set it, 1 outside torchrun."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def inside_torchrun() -> bool:
    return all(name in os.environ for name in TORCHRUN_VARIABLES)


@dataclass
class World:
    """This process's place among the training processes; `World()` is a run of one.

    `communication_s` adds up the seconds spent averaging gradients (when `timed`), for the benchmark.
    """

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    backend: str | None = None
    owns_group: bool = False
    timed: bool = False
    communication_s: float = field(default=0.0)

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes the run folder, the job store and the console."""
        return self.rank == 0

    # --- joining and leaving ------------------------------------------------------------
    @classmethod
    def current(cls) -> World:
        """The group this process already belongs to (the CLI or the worker joined it), else a world of one.
        A Trainer built inside torchrun without being handed a world thus still trains as its rank."""
        if dist.is_available() and dist.is_initialized():
            return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")),
                       dist.get_backend())
        return cls()

    @classmethod
    def from_environment(cls, device: str = "auto") -> World:
        """Join the process group torchrun describes, or return a world of one outside torchrun.

        NCCL for CUDA (each local rank takes its own GPU), Gloo otherwise. A group someone else initialised
        (a test harness, a notebook) is used as it is and left for them to close.
        """
        if dist.is_available() and dist.is_initialized():
            return cls.current()
        if not inside_torchrun() or torchrun_world_size() == 1:
            return cls()
        local_rank = int(os.environ["LOCAL_RANK"])
        use_cuda = device in ("auto", "cuda") and torch.cuda.is_available()
        if use_cuda:
            torch.cuda.set_device(local_rank)
        backend = "nccl" if use_cuda else "gloo"
        dist.init_process_group(backend)
        return cls(dist.get_rank(), dist.get_world_size(), local_rank, backend, owns_group=True)

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()

    # --- set-up -------------------------------------------------------------------------
    def device(self, device: torch.device) -> torch.device:
        """The device this rank trains on: its own GPU by local rank on CUDA."""
        if self.distributed and device.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return device

    def seed(self, seed: int, step: int = 0) -> None:
        """Seed noise and data order differently on every rank, reproducibly for a given world size.

        A run of one keeps the RNG as it was (its runs and shipped models stay reproducible). Ranks draw
        their batches with replacement from the whole dataset, each from its own stream: together that is
        one batch of batch_size × processes random draws, with no sharding of indices needed.
        """
        if not self.distributed:
            return
        torch.manual_seed(rank_seed(seed, self.rank, self.size, step))

    def broadcast_parameters(self, model: nn.Module) -> None:
        """Rank 0's parameters and buffers everywhere, as DDP does at construction."""
        if not self.distributed:
            return
        with torch.no_grad():
            for tensor in [*model.parameters(), *model.buffers()]:
                dist.broadcast(tensor.data, src=0)

    def broadcast_buffers(self, model: nn.Module) -> None:
        """Rank 0's buffers (batch-norm statistics) everywhere, before a checkpoint: all ranks then hold the
        state rank 0 saves."""
        if not self.distributed:
            return
        with torch.no_grad():
            for buffer in model.buffers():
                dist.broadcast(buffer.data, src=0)

    def average_gradients_before_step(self, optimizers: Iterable[torch.optim.Optimizer]) -> None:
        """Register the gradient-averaging pre-hook on every optimizer (see the module docstring for why)."""
        if not self.distributed:
            return
        for optimizer in optimizers:
            optimizer.register_step_pre_hook(self._average_hook)

    def _average_hook(self, optimizer: torch.optim.Optimizer, args: tuple, kwargs: dict) -> None:
        # Every rank runs the same variant with the same config, so the same parameters have gradients.
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        started = _clock(self.timed)
        average_tensors(grads, self.size)
        if self.timed:
            self.communication_s += _clock(True) - started

    # --- agreeing -----------------------------------------------------------------------
    def agree(self, decision: bool) -> bool:
        """Rank 0's decision on every rank (stop now, refresh the preview now): ranks must take the same
        branch wherever a branch leads to a collective, and only rank 0 reads the clock and the job store."""
        if not self.distributed:
            return decision
        flag = torch.tensor([int(decision)], dtype=torch.int32, device=self._collective_device())
        dist.broadcast(flag, src=0)
        return bool(flag.item())

    def mean(self, table: torch.Tensor) -> torch.Tensor:
        """The mean over ranks of logged scalars: logs then describe the global batch, and a non-finite
        value on any rank is seen by all, so all stop together."""
        if not self.distributed:
            return table
        table = table.to(self._collective_device(), torch.float32).contiguous()
        dist.all_reduce(table)
        return table / self.size

    def gather_rng_states(self) -> list[torch.Tensor]:
        """Every rank's CPU RNG state (the same list on all), saved so a resume on the same world size
        continues each rank's own stream."""
        state = torch.get_rng_state()
        if not self.distributed:
            return [state]
        if self.backend == "nccl":
            state_on_device = state.to(self._collective_device())
            gathered = [torch.empty_like(state_on_device) for _ in range(self.size)]
            dist.all_gather(gathered, state_on_device)
            return [tensor.cpu() for tensor in gathered]
        gathered = [torch.empty_like(state) for _ in range(self.size)]
        dist.all_gather(gathered, state)
        return gathered

    def _collective_device(self) -> torch.device:
        return torch.device("cuda", self.local_rank) if self.backend == "nccl" else torch.device("cpu")


def rank_seed(seed: int, rank: int, world_size: int, step: int = 0) -> int:
    """A seed of its own for every (run seed, rank, world size, step): streams that do not overlap by
    construction, as `seed + rank` would for neighbouring run seeds."""
    digest = hashlib.sha256(f"{seed}:{rank}:{world_size}:{step}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def average_tensors(tensors: list[torch.Tensor], world_size: int, bucket_bytes: int = BUCKET_BYTES) -> None:
    """Replace each tensor by its mean over ranks, in flat buckets per device and dtype (DDP's reduction)."""
    groups: dict[tuple[torch.device, torch.dtype], list[torch.Tensor]] = {}
    for tensor in tensors:
        groups.setdefault((tensor.device, tensor.dtype), []).append(tensor)
    for members in groups.values():
        bucket: list[torch.Tensor] = []
        size = 0
        for tensor in members:
            bucket.append(tensor)
            size += tensor.numel() * tensor.element_size()
            if size >= bucket_bytes:
                _average_bucket(bucket, world_size)
                bucket, size = [], 0
        if bucket:
            _average_bucket(bucket, world_size)


def _average_bucket(tensors: list[torch.Tensor], world_size: int) -> None:
    dense = [t.to_dense() if t.is_sparse else t for t in tensors]
    flat = torch.cat([t.reshape(-1) for t in dense])
    dist.all_reduce(flat)
    flat.div_(world_size)
    offset = 0
    for tensor in tensors:
        count = tensor.numel()
        piece = flat[offset:offset + count].view(tensor.shape)
        if tensor.is_sparse:
            tensor.copy_(piece.to_sparse())  # pragma: no cover  (no variant has sparse gradients today)
        else:
            tensor.copy_(piece)
        offset += count


def _clock(synchronise: bool) -> float:
    import time

    if synchronise and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()
    return time.perf_counter()


def use_sync_batch_norm(model: nn.Module, world: World, device: torch.device) -> None:
    """Turn the batch norms of every trained network into SyncBatchNorm (statistics over the global batch).

    Off by default: with per-process batches of 32 or more, per-rank statistics are what a one-GPU run sees,
    and synchronising costs two collectives per batch-norm layer per forward. Networks that are not trained
    (an EMA copy) keep plain batch norm: rank 0 alone runs them, to sample. PyTorch's SyncBatchNorm runs on
    CUDA only, so the CPU refuses it with a message. Done before the optimizers are built; the parameters
    are the same objects either way, and state-dict keys do not change.
    """
    if not world.distributed:
        return
    if device.type != "cuda":
        raise ConfigError("sync_batch_norm needs CUDA GPUs (PyTorch's SyncBatchNorm does not run on the CPU); "
                          "turn it off for CPU processes")
    for name, child in list(model.named_children()):
        if any(parameter.requires_grad for parameter in child.parameters()):
            setattr(model, name, nn.SyncBatchNorm.convert_sync_batchnorm(child))


def check_can_distribute(spec, processes: int) -> None:  # spec: gan_core.registry.VariantSpec
    """Refuse more than one process for a variant whose spec says it cannot run distributed."""
    if processes > 1 and not spec.distributed:
        raise ConfigError(f"{spec.name} trains as one process only: {spec.single_process_reason} "
                          f"(asked for {processes} processes); run it with 1")


def check_sync_batch_norm(config, processes: int) -> None:  # config: gan_core.config.TrainConfig
    """Refuse SyncBatchNorm for several processes that would train on the CPU, before any process starts."""
    from gan_core.device import resolve_device

    if processes > 1 and config.sync_batch_norm and resolve_device(config.device).type != "cuda":
        raise ConfigError("sync_batch_norm needs CUDA GPUs (PyTorch's SyncBatchNorm does not run on the CPU); "
                          "turn it off for CPU processes")


def torchrun_command(processes: int, arguments: list[str], nodes: int = 1, node_rank: int = 0,
                     master: str = "FIRST_NODE_ADDRESS", port: int = 29500) -> str:
    """The shell command that runs `python -m gan_core <arguments>` as `processes` ranks on one node.

    One node: `--standalone` (a local rendezvous on a free port). Several: static rendezvous at the first
    node's address, the same command on every node but for its `--node-rank`. Static rather than c10d
    rendezvous because it pins global rank 0 to node 0, so the run folder is written on the machine the
    user chose (c10d hands out ranks in arrival order).
    """
    if processes < 1 or nodes < 1 or not 0 <= node_rank < nodes:
        raise ConfigError("processes and nodes must be at least 1, and the node rank one of 0 .. nodes - 1")
    import shlex

    launcher = ["torchrun"]
    if nodes == 1:
        launcher += ["--standalone"]
    else:
        launcher += ["--nnodes", str(nodes), "--node-rank", str(node_rank), "--master-addr", master,
                     "--master-port", str(port)]
    launcher += ["--nproc-per-node", str(processes), "-m", "gan_core"]
    return " ".join(shlex.quote(part) for part in [*launcher, *arguments])

