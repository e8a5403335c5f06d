"""Choosing the device a job runs on: CUDA first, then Apple's MPS, then the CPU."""

import torch

from gan_core.errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(preference: str = "auto") -> torch.device:
    """Turn a user's device choice into a usable `torch.device`.

    "auto" picks the fastest device present. Asking for a device that is not there is an error
    rather than a silent fallback, so a user who asked for the GPU knows they did not get it.
    """
    if preference not in DEVICE_CHOICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICE_CHOICES)}; got {preference!r}")
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if preference == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was requested but no CUDA GPU is available; use --device auto or cpu")
    if preference == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' was requested but Apple MPS is not available; use --device auto or cpu")
    return torch.device(preference)


def describe_device(device: torch.device) -> str:
    """A human name for the device, e.g. 'NVIDIA H100 (cuda)' or 'CPU (2 threads)'."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (cuda)"
    if device.type == "mps":
        return "Apple GPU (mps)"
    return f"CPU ({torch.get_num_threads()} threads)"
