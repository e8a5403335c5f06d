"""The one training loop every variant runs through.

The loop owns what is common: device, seeding, the on-device batch source, logging without per-step
host syncs, fixed-noise sample grids, atomic checkpoints, exact resume and the divergence guard. It
knows nothing of objectives: a variant's `train_step` returns named scalars and they are logged.

Under torchrun the same loop runs on every rank (`gan_core.training.distributed.World`): gradients are
averaged at each optimizer step, logs are averaged over ranks, and only rank 0 writes the run folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch

from gan_core.checkpoints import load_resume_state, save_generator, save_resume_state
from gan_core.config import TrainConfig
from gan_core.data.catalogue import load_dataset
from gan_core.data.types import ImageDataset
from gan_core.device import autocast_dtype, describe_device, resolve_device
from gan_core.errors import CheckpointError, ConfigError
from gan_core.registry import get_variant
from gan_core.training.distributed import World, rank_seed, use_sync_batch_norm
from gan_core.training.run_files import RunFiles, RunLock
from gan_core.variants.base import GanModel

PREVIEW_SEED = 1234


class Callback:
    """Hooks the trainer calls; every method is optional. `should_stop` is polled at log points."""

    def on_start(self, trainer: Trainer) -> None: ...
    def on_log(self, step: int, metrics: dict[str, float]) -> None: ...
    def on_samples(self, step: int, path: Path) -> None: ...
    def on_checkpoint(self, step: int) -> None: ...
    def on_end(self, result: RunResult) -> None: ...
    def should_stop(self) -> bool:
        return False


@dataclass
class RunResult:
    status: str  # finished | diverged | cancelled | failed (a checkpoint could not be written)
    step: int
    message: str
    run_dir: Path


class MetricAccumulator:
    """Keeps each step's scalars on the device and hands them to the host once per log interval."""

    def __init__(self) -> None:
        self.rows: list[dict[str, torch.Tensor]] = []
        self.first_step = 0

    def add(self, step: int, values: dict[str, torch.Tensor]) -> None:
        if not self.rows:
            self.first_step = step
        self.rows.append(values)

    def flush(self, world: World | None = None) -> tuple[dict[str, float], str | None]:
        """Means over the interval (and over ranks), and a description of the first non-finite value if any.

        A variant that trains in phases (StackGAN's stages) logs each phase's scalars only while it runs, so a
        name is averaged over the steps that logged it."""
        if not self.rows:
            return {}, None
        names = list(dict.fromkeys(name for row in self.rows for name in row))
        table = torch.stack([torch.stack([_scalar(row, name) for name in names]) for row in self.rows])
        table = (world.mean(table) if world is not None else table).cpu()
        present = torch.tensor([[name in row for name in names] for row in self.rows])
        self.rows = []
        finite = torch.isfinite(table) | ~present
        if not bool(finite.all()):
            row, column = (~finite).nonzero()[0].tolist()
            value = table[row, column].item()
            return {}, f"{names[column]} became {value} at step {self.first_step + row}"
        means = (table * present).sum(0) / present.sum(0)
        return dict(zip(names, means.tolist())), None


def _scalar(row: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """`row[name]` as a float scalar, or 0 on the row's device where this step did not log `name`."""
    if name in row:
        return row[name].float().reshape(())
    return torch.zeros((), device=next(iter(row.values())).device)


class Trainer:
    """Trains one run folder. Construct, then `run()`; `resume=True` continues from its checkpoint."""

    def __init__(
        self,
        config: TrainConfig,
        run_dir: Path | str,
        callbacks: Iterable[Callback] = (),
        dataset: ImageDataset | None = None,
        world: World | None = None,
    ) -> None:
        self.config = config
        self.world = world or World.current()
        self.spec = get_variant(self.config.variant)
        self.files = RunFiles(run_dir, self.spec.sample_kind.suffix)
        self.callbacks = list(callbacks)
        self.device = self.world.device(resolve_device(self.config.device))
        self.autocast_dtype = autocast_dtype(self.device, self.config.precision)
        self._dataset = dataset
        self.step = 0
        self.elapsed = 0.0

    # --- set-up -------------------------------------------------------------------------
    def _prepare(self, resume: bool) -> None:
        c = self.config
        if not resume and (self.files.metrics.exists() or self.files.resume.exists()):
            raise ConfigError(f"{self.files.root} already holds a run; resume it (--resume) or choose a new folder, "
                              "so its checkpoints and metrics are not mixed with a new run's")
        torch.manual_seed(c.seed)
        self.dataset = self._dataset or load_dataset(c.dataset, c.image_size, c.data_root)
        self.model: GanModel = self.spec.model_class.from_data(c, self.dataset).to(self.device)
        self.dataset_info = self.model.describe_data(self.dataset)
        # Convolutions in NHWC: oneDNN on the CPU (and cuDNN with tensor cores) run them faster than NCHW;
        # 1.1-1.2x per DCGAN-family step on this 2-core CPU (BENCHMARKS.md, "Training throughput").
        # Only 4-D weights change layout; checkpoints are written contiguous either way.
        self.model.to(memory_format=torch.channels_last)
        self._join_world()
        self.optimizers = self.model.configure_optimizers()
        self.model.attach_optimizers(self.optimizers)
        self.world.average_gradients_before_step(self.optimizers.values())
        self.world.seed(c.seed)
        self.next_batch = self.model.batch_source(self.dataset, c.batch_size, self.device)
        if self.world.is_main:
            self.files.root.mkdir(parents=True, exist_ok=True)
            self.files.remove_temporaries()
        if resume:
            self._load_resume_state()
        if self.world.is_main:
            self.files.write_json(self.files.config, json.loads(c.to_json()))
        self.model.setup_preview(self.dataset, self.device, PREVIEW_SEED)

    def _join_world(self) -> None:
        """Several processes: SyncBatchNorm if asked for, then every rank starts from rank 0's weights."""
        if self.config.sync_batch_norm:
            use_sync_batch_norm(self.model, self.world, self.device)
        self.world.broadcast_parameters(self.model)

    def _restore_rng(self, state: dict) -> None:
        """Each rank continues its own random stream when the world size is the one saved; with another
        world size there is no such stream, so each rank is seeded from (seed, rank, world size, step):
        reproducible for that world size."""
        if int(state.get("world_size", 1)) == self.world.size:
            torch.set_rng_state(state["rng_cpu_ranks"][self.world.rank] if self.world.distributed else state["rng_cpu"])
            if self.device.type == "cuda" and state.get("rng_cuda") is not None and not self.world.distributed:
                torch.cuda.set_rng_state(state["rng_cuda"], self.device)
        else:
            torch.manual_seed(rank_seed(self.config.seed, self.world.rank, self.world.size, int(state["step"])))

    def _load_resume_state(self) -> None:
        state = load_resume_state(self.files.resume)
        try:
            self.model.load_state_dict(state["model"])
            for name, optimizer in self.optimizers.items():
                optimizer.load_state_dict(state["optimizers"][name])
        except (KeyError, RuntimeError, ValueError) as error:
            raise CheckpointError(f"resume state does not fit this run's config: {str(error).splitlines()[0]}") from None
        self._restore_rng(state)
        self.step = int(state["step"])
        self.elapsed = float(state.get("elapsed", 0.0))
        if self.world.is_main:
            self.files.truncate_metrics_after(self.step)

    def _step_precision(self) -> torch.autocast:
        """Mixed precision for the training step only: previews, EMA and checkpoints stay in float32.

        bfloat16 keeps float32's exponent range, so no loss scaling is needed; the losses take float32
        scores (`gan_core.losses`) and the optimizers update float32 weights.
        """
        dtype = self.autocast_dtype
        return torch.autocast(self.device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None)

    # --- outputs ------------------------------------------------------------------------
    def save_samples(self) -> Path:
        """The fixed-input preview at this step, written as the variant's kind of sample says (by rank 0)."""
        path = self.files.sample_path(self.step)
        if not self.world.is_main:
            return path
        self.spec.sample_kind.write(self.model.preview(), path)
        for callback in self.callbacks:
            callback.on_samples(self.step, path)
        return path

    def save_live_sample(self) -> None:
        if not self.world.is_main:
            return
        self.spec.sample_kind.write(self.model.preview(), self.files.live_sample)

    def save_checkpoint(self, metrics: dict[str, float]) -> None:
        """Resume state first, then the generator: the generator file is only ever as new as a resumable state."""
        for parameter in self.model.parameters():
            if not bool(torch.isfinite(parameter).all()):
                raise _Diverged(f"a network weight became non-finite by step {self.step}")
        self.world.broadcast_buffers(self.model)
        rng_of_ranks = self.world.gather_rng_states()
        if not self.world.is_main:
            return
        save_resume_state(self.files.resume, {
            "step": self.step,
            "elapsed": self.elapsed,
            "model": self.model.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
            **({"world_size": self.world.size, "rng_cpu_ranks": rng_of_ranks} if self.world.distributed else {}),
        })
        save_generator(
            self.files.generator, self.model.sampling_generator(), self.config, self.model.layout,
            self.dataset_info, self.step, metrics,
        )
        for callback in self.callbacks:
            callback.on_checkpoint(self.step)

    def _write_status(self, result: RunResult) -> None:
        if not self.world.is_main:
            return
        self.files.write_json(self.files.status, {"status": result.status, "step": result.step, "message": result.message})

    def _log(self, accumulator: MetricAccumulator, images: int, started: float) -> dict[str, float]:
        metrics, problem = accumulator.flush(self.world)
        if problem:
            raise _Diverged(problem)
        now = time.perf_counter()
        metrics["images_per_s"] = images / max(now - started, 1e-9)
        metrics["elapsed_s"] = self.elapsed + (now - started)
        row = {"step": self.step, "time": time.time(), **metrics}
        if self.world.is_main:
            with open(self.files.metrics, "a") as handle:
                handle.write(json.dumps(row) + "\n")
        for callback in self.callbacks:
            callback.on_log(self.step, metrics)
        return metrics

    # --- the loop -----------------------------------------------------------------------
    def run(self, resume: bool = False) -> RunResult:
        """Train to the configured step count (or continue a run), holding the run folder's lock meanwhile."""
        if not self.world.is_main:  # rank 0 holds the lock for the whole group
            return self._run(resume)
        with RunLock(self.files.root):
            return self._run(resume)

    def _run(self, resume: bool) -> RunResult:
        self._prepare(resume)
        c = self.config
        for callback in self.callbacks:
            callback.on_start(self)
        accumulator = MetricAccumulator()
        images_per_step = c.batch_size * c.n_critic * self.world.size
        metrics: dict[str, float] = {}
        interval_start, interval_images = time.perf_counter(), 0
        last_refresh = interval_start
        status, message = "finished", f"finished {c.steps} steps"
        try:
            if self.step == 0:
                self.save_samples()
            while self.step < c.steps:
                self.model.prepare_step(self.step)
                with self._step_precision():
                    accumulator.add(self.step + 1, self.model.train_step(self.next_batch))
                self.step += 1
                interval_images += images_per_step
                at_end = self.step == c.steps
                checkpoint_due = self.step % c.checkpoint_every == 0 or at_end
                refresh_due = c.refresh_seconds > 0 and time.perf_counter() - last_refresh >= c.refresh_seconds
                if c.refresh_seconds > 0:
                    refresh_due = self.world.agree(refresh_due)
                if refresh_due:
                    self.save_live_sample()
                    last_refresh = time.perf_counter()
                if self.step % c.log_every == 0 or checkpoint_due or refresh_due:
                    metrics = self._log(accumulator, interval_images, interval_start)
                    self.elapsed = metrics["elapsed_s"]
                    interval_start, interval_images = time.perf_counter(), 0
                    if self.world.agree(any(callback.should_stop() for callback in self.callbacks)):
                        self.save_checkpoint(metrics)
                        status, message = "cancelled", f"cancelled at step {self.step}"
                        break
                if self.step % c.sample_every == 0 or at_end:
                    self.save_samples()
                if checkpoint_due:
                    self.save_checkpoint(metrics)
        except _Diverged as diverged:
            status = "diverged"
            message = (f"training diverged: {diverged}. The last good checkpoint is kept; "
                       "try a lower learning rate, spectral normalisation or another objective")
        except CheckpointError as error:
            # A full disk is an ending like any other: the previous checkpoint is intact and resumable, so the
            # run says so in status.json instead of leaving a stale "running" story behind a traceback.
            status, message = "failed", str(error)
        result = RunResult(status, self.step, message, self.files.root)
        self._write_status(result)
        for callback in self.callbacks:
            callback.on_end(result)
        return result

    @property
    def device_name(self) -> str:
        return describe_device(self.device)


class _Diverged(Exception):
    """Internal signal: a non-finite value was seen; carries where."""


def train(
    config: TrainConfig, run_dir: Path | str, callbacks: Iterable[Callback] = (),
    resume: bool = False, dataset: ImageDataset | None = None, world: World | None = None,
) -> RunResult:
    """Train (or resume) a run and return how it ended (as this rank saw it, under torchrun)."""
    return Trainer(config, run_dir, callbacks, dataset, world).run(resume=resume)


