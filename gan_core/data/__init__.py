"""Datasets as in-memory uint8 tensors, ready to live on the training device."""

from gan_core.data.base import BatchSampler, ImageDataset, dataset_names, load_dataset

__all__ = ["ImageDataset", "BatchSampler", "load_dataset", "dataset_names"]
