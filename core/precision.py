"""Which floating-point precision the engine runs models in on each kind of device.

- NVIDIA GPUs with native bfloat16 (Ampere and later): bfloat16, when every model family the engine
  loads is known to be safe in it. bfloat16 has float32's range, so nothing overflows, the VAE included.
- Other NVIDIA GPUs and Apple Metal: float16. Its largest number is 65504, which some VAEs exceed:
  see `core/models/vae_precision.py` for how the VAE is kept from overflowing.
- The CPU: float32.
"""

from __future__ import annotations

from typing import get_args

import torch

from sfumato.core.models.checkpoint_kind import Base

# SD 1.x and 2.x (the demo model is an SD 1.x architecture) are trained and run in bfloat16 widely
# without loss. A family added to `Base` runs in float16 until it is known safe and named here.
SAFE_IN_BFLOAT16: frozenset[str] = frozenset({"sd1", "sd2"})
ENGINE_BASES: tuple[str, ...] = get_args(Base)


def precision_for(
    device_type: str, *, bf16_supported: bool, bases: tuple[str, ...] = ENGINE_BASES
) -> torch.dtype:
    """The dtype models run in on a device of `device_type` ("cuda", "mps", "cpu"), for models of the
    families `bases` (by default every family the engine loads)."""
    if device_type == "cpu":
        return torch.float32
    # Apple GPUs before M2 have no bfloat16 arithmetic, and Metal's bfloat16 kernels need macOS 14:
    # float16 runs everywhere there.
    if device_type == "cuda" and bf16_supported and SAFE_IN_BFLOAT16.issuperset(bases):
        return torch.bfloat16
    return torch.float16


def cuda_has_native_bf16() -> bool:
    # Without `including_emulation=False` torch reports bfloat16 on older GPUs too, where it is emulated
    # in float32 and runs slower than float16.
    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False))


def is_half(dtype: torch.dtype) -> bool:
    """float16 or bfloat16: weights are then downloaded as fp16 files (they load into either)."""
    return dtype in (torch.float16, torch.bfloat16)


def describe_precision(dtype: torch.dtype) -> str:
    """What `sfumato info` says about the precision in use."""
    if dtype == torch.bfloat16:
        return "bfloat16 (float32's range: the VAE cannot overflow)"
    if dtype == torch.float16:
        return "float16 (the VAE moves to float32 for good if a decode overflows)"
    return "float32 (full precision)"
