"""Speed profiles, applied once when a model loads.

*default*: what costs nothing to start: SDPA attention, channels-last UNet and VAE, and on NVIDIA TF32
matmuls and cuDNN autotuning; models run in bfloat16 on GPUs that have it, float16 on other GPUs (the
device's precision: core/precision.py), with a float16 model's VAE kept in float32 where it would
overflow (core/models/vae_precision.py). QKV projections are left unfused: a LoRA hooks the separate
query, key and value layers (core/models/addons.py), which a fused projection would bypass.

*fast*: in addition the UNet is compiled by torch.compile (with CUDA graphs on NVIDIA), its kernels
cached in Sfumato's cache folder so a later launch reuses them. Compiling happens the first time a
frame size and batch are drawn: that first image takes longer, the next ones at that size are faster.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import torch

from sfumato.core.api import BadInput
from sfumato.core.engine_settings import SPEED_CHOICES

log = logging.getLogger(__name__)

DEFAULT, FAST = SPEED_CHOICES
SPEED_WORDS = {
    DEFAULT: "default (SDPA attention, channels-last; bfloat16, TF32, cuDNN autotuning where NVIDIA has it)",
    FAST: "fast (default, and the UNet compiled for this device; the first image at a size takes longer)",
}


def check_speed(choice: str) -> str:
    wanted = choice.strip().lower()
    if wanted not in SPEED_CHOICES:
        raise BadInput(f"Unknown speed profile '{choice}'. Choose one of: {', '.join(SPEED_CHOICES)}.")
    return wanted


def accelerate(components: dict[str, Any], device: torch.device, speed: str = DEFAULT) -> None:
    """Apply speed profile `speed` to a loaded model's `components` on `device`."""
    from diffusers.models.attention_processor import AttnProcessor2_0

    unet, vae = components["unet"], components["vae"]
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    for module in (unet, vae):
        module.set_attn_processor(AttnProcessor2_0())
        module.to(memory_format=torch.channels_last)
    if check_speed(speed) == FAST:
        _compile(unet, device)


def _compile(unet: Any, device: torch.device) -> None:
    from sfumato.core.paths import cache_dir

    # Inductor reads its cache folder when it first compiles: set it before, in Sfumato's own cache.
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir() / "inductor"))
    os.environ.setdefault("TORCHINDUCTOR_FX_GRAPH_CACHE", "1")
    mode = "reduce-overhead" if device.type == "cuda" else None  # CUDA graphs where shapes stay put
    unet.compile(mode=mode, dynamic=False)
    log.info("the UNet will be compiled for this device the first time each frame size is drawn")
