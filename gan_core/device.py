"""Choosing the device a job runs on: CUDA first, then Apple's MPS, then the CPU."""

import torch

from gan_core.errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
PRECISION_CHOICES = ("fp32", "bf16", "auto")


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
    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'s' * (threads != 1)})"


def has_native_bfloat16(device: torch.device) -> bool:
    """Whether `device` multiplies bfloat16 in hardware: Ampere or newer GPUs; CPUs with AVX512-BF16 or AMX.

    Elsewhere bfloat16 is emulated and slower than float32, so "auto" precision keeps float32 there.
    """
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device) >= (8, 0)
    if device.type == "cpu":
        # Private probes of torch.cpu (present in the pinned torch); a torch without them gets float32.
        probes = (getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
        return any(probe() for probe in probes if probe is not None)
    return False


def autocast_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """The dtype the training step autocasts to for a `precision` choice, or None for plain float32."""
    if precision not in PRECISION_CHOICES:
        raise ConfigError(f"precision must be one of {', '.join(PRECISION_CHOICES)}; got {precision!r}")
    if precision == "fp32" or (precision == "auto" and not has_native_bfloat16(device)):
        return None
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"bf16 precision runs on cpu and cuda, not {device.type}; use --precision fp32 or auto")
    return torch.bfloat16
