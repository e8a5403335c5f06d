"""What can be known about a job before it exists: checked when the user presses Start, not 4 s into a worker.

A network that cannot take the image size, a dataset the variant cannot train on, a folder that is not
there: each is a `GanStudioError` with the message the job would have failed with, raised before a job or a
run folder is made.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gan_core.config import TrainConfig
from gan_core.data.catalogue import dataset_entry
from gan_core.errors import ConfigError, DatasetUnavailableError
from gan_core.registry import get_variant

PREFLIGHT_CLASSES = 10
"""Classes assumed while building the networks to check them: enough for every conditional variant."""


def check_before_start(config: TrainConfig) -> None:
    """Raise what would stop this job at its start; building the networks on the meta device costs no memory."""
    spec = get_variant(config.variant)
    entry = dataset_entry(config.dataset)
    if config.dataset not in spec.datasets():
        kind = ("two image domains (pairs)" if spec.image_to_image else "single images" if spec.trains_on_images
                else spec.data.replace("_", " "))
        raise ConfigError(f"{spec.name} trains on {kind}; {config.dataset} is not such a dataset. "
                          f"Choose one of: {', '.join(spec.datasets())}")
    if entry.source == "folder":
        if not config.data_root:
            raise DatasetUnavailableError(f"the {config.dataset!r} dataset reads your own images: name their folder "
                                          "(data_root), or upload a zip of them", field="data_root")
        if not Path(config.data_root).expanduser().is_dir():
            raise DatasetUnavailableError(f"the image folder {config.data_root} does not exist or is not a folder",
                                          field="data_root")
    if entry.check_download is not None:
        entry.check_download(config.data_root)
    if not spec.trains_on_images:
        return  # its networks' sizes come from the data, read when the job starts
    channels = 3 if spec.image_to_image else 1
    with torch.device("meta"), torch.random.fork_rng(devices=[]):
        spec.model_class(config, (channels, config.image_size, config.image_size), PREFLIGHT_CLASSES)
