"""Datasets as in-memory uint8 tensors, ready to live on the training device.

`types` holds what every dataset is (and the batch sampler), `catalogue` the datasets by name; one module per source.
"""
