"""Tiny models whose VAE overflows float16, or says whether it needs float32, for the precision tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

FP16_LARGEST = 65504.0


def latents_of_a_generation(seed: int = 0) -> torch.Tensor:
    """Scaled latents of the spread a finished SD generation has (unit variance), for a 64 px image."""
    return torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(seed))


def copy_with_upcast_flag(model_dir: Path, target: Path, force_upcast: bool) -> Path:
    """A copy of a model folder whose VAE config says `force_upcast` (whether it needs float32)."""
    shutil.copytree(model_dir, target)
    config_file = target / "vae" / "config.json"
    config = json.loads(config_file.read_text("utf-8"))
    config_file.write_text(json.dumps(config | {"force_upcast": force_upcast}), "utf-8")
    return target


def make_vae_overflow(model_dir: Path) -> Path:
    """Make the VAE decoder's first convolution 10^5 times stronger, in place.

    Its output then peaks near 10^6: past float16's largest number (65504), while float32 holds it
    easily and the group norm right after scales it back, as happens inside some real VAEs.
    """
    weights_file = model_dir / "vae" / "diffusion_pytorch_model.safetensors"
    weights = load_file(weights_file)
    for name in ("decoder.conv_in.weight", "decoder.conv_in.bias"):
        weights[name] = weights[name] * 1e5
    save_file(weights, weights_file)
    return model_dir
