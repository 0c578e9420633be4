"""Choosing where models run: CUDA, then Apple MPS, then the CPU; and recognising out-of-memory."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from sfumato.core.api import DEVICE_CHOICES, BadInput
from sfumato.core.precision import cuda_has_native_bf16, is_half, precision_for


@dataclass(frozen=True)
class DeviceChoice:
    device: torch.device
    dtype: torch.dtype
    name: str


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def pick_device(preference: str | None = None) -> DeviceChoice:
    """The device for `preference` ("auto" or unset: CUDA, then MPS, then CPU; `SFUMATO_DEVICE` overrides).

    Its dtype follows `core/precision.py`: bfloat16 on NVIDIA GPUs that have it, float16 on other
    GPUs, float32 on the CPU.
    """
    wanted = (preference or "auto").strip().lower()
    origin = ""
    if wanted == "auto" and os.environ.get("SFUMATO_DEVICE", "").strip():
        wanted = os.environ["SFUMATO_DEVICE"].strip().lower()
        origin = " (set by the SFUMATO_DEVICE environment variable)"
    if wanted not in DEVICE_CHOICES:
        raise BadInput(f"Unknown device '{wanted}'{origin}. Choose one of: {', '.join(DEVICE_CHOICES)}.")
    if wanted == "auto":
        wanted = "cuda" if torch.cuda.is_available() else "mps" if _mps_available() else "cpu"
    if wanted == "cuda":
        if not torch.cuda.is_available():
            raise BadInput(
                "An NVIDIA GPU (CUDA) was asked for, but none is usable on this computer. "
                "Choose 'auto' or 'cpu' as the device instead."
            )
        dtype = precision_for("cuda", bf16_supported=cuda_has_native_bf16())
        return DeviceChoice(torch.device("cuda"), dtype, torch.cuda.get_device_name(0))
    if wanted == "mps":
        if not _mps_available():
            raise BadInput(
                "Apple Metal (MPS) was asked for, but it is not available on this computer. "
                "Choose 'auto' or 'cpu' as the device instead."
            )
        dtype = precision_for("mps", bf16_supported=False)
        return DeviceChoice(torch.device("mps"), dtype, "Apple GPU (Metal)")
    return DeviceChoice(torch.device("cpu"), precision_for("cpu", bf16_supported=False), "CPU")


def runs_in_half_precision(preference: str | None = None) -> bool:
    """Whether the engine would run in half precision (float16 or bfloat16) here: then downloads take
    the fp16 weights, which load into either."""
    try:
        return is_half(pick_device(preference).dtype)
    except BadInput:
        return False


def is_out_of_memory(error: BaseException) -> bool:
    """True for CUDA and MPS allocation failures, whatever exception type the backend chose."""
    if isinstance(error, torch.cuda.OutOfMemoryError | MemoryError):
        return True
    text = str(error).lower()
    return isinstance(error, RuntimeError) and (
        "out of memory" in text or "mps backend out of memory" in text or "failed to allocate" in text
    )


def release_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps" and _mps_available():
        torch.mps.empty_cache()


def memory_in_use(device: torch.device) -> int | None:
    """Bytes the device allocator holds, or None where the backend cannot tell."""
    if device.type == "cuda":
        return int(torch.cuda.memory_allocated(device))
    if device.type == "mps" and _mps_available():
        return int(torch.mps.current_allocated_memory())
    return None
