"""Models to benchmark with: the tiny test model, SD 1.5's full architecture at random weights, or a
local diffusers folder.

Random weights make no sensible pictures, but every layer costs exactly what a trained SD 1.5 costs,
so timings taken with them hold for real checkpoints of that architecture.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import torch
from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from tests.support.tiny_models import NATIVE_SIZE as TINY_NATIVE_SIZE
from tests.support.tiny_models import build_tiny_pipeline

SD15_NATIVE_SIZE = 512

# SD 1.5's published hyper-parameters, used only when the shipped config folder is not available.
_SD15_UNET: dict[str, Any] = {
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "block_out_channels": [320, 640, 1280, 1280],
    "layers_per_block": 2,
    "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
    "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
    "norm_num_groups": 32,
}
_SD15_VAE: dict[str, Any] = {
    "sample_size": 512,
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "scaling_factor": 0.18215,
}
_SD15_TEXT: dict[str, Any] = {
    "vocab_size": 49408,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "max_position_embeddings": 77,
    "hidden_act": "quick_gelu",
    "projection_dim": 768,
}
_SD15_SCHEDULER: dict[str, Any] = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
}


@dataclass(frozen=True)
class BenchModel:
    path: Path
    description: str
    native_size: int


def _shipped_sd1_config() -> Path | None:
    try:
        from sfumato.core.models.configs import config_dir
    except ImportError:
        return None
    folder = config_dir("sd1")
    return folder if (folder / "unet" / "config.json").is_file() else None


def _sd15_components(config: Path | None) -> dict[str, Any]:
    if config is not None:
        return dict(
            unet=UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(config / "unet")),
            vae=AutoencoderKL.from_config(AutoencoderKL.load_config(config / "vae")),
            text_encoder=CLIPTextModel(CLIPTextConfig.from_pretrained(config / "text_encoder")),
            tokenizer=CLIPTokenizer.from_pretrained(config / "tokenizer"),
            scheduler=PNDMScheduler.from_pretrained(config / "scheduler"),
        )
    tokenizer_dir = Path(str(files("sfumato.resources") / "tokenizers" / "clip"))
    return dict(
        unet=UNet2DConditionModel(**_SD15_UNET),
        vae=AutoencoderKL(**_SD15_VAE),
        text_encoder=CLIPTextModel(CLIPTextConfig(**_SD15_TEXT)),
        tokenizer=CLIPTokenizer.from_pretrained(
            tokenizer_dir, pad_token="<|endoftext|>", model_max_length=77
        ),
        scheduler=PNDMScheduler(**_SD15_SCHEDULER),
    )


def build_sd15_random(folder: Path, seed: int = 0) -> Path:
    """Save SD 1.5's architecture (UNet 859M, VAE, CLIP ViT-L/14 text encoder) at seeded random weights."""
    torch.manual_seed(seed)
    pipeline = StableDiffusionPipeline(
        **_sd15_components(_shipped_sd1_config()),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(folder, safe_serialization=True)
    return folder


def prepare_model(spec: str, workdir: Path) -> BenchModel:
    """`tiny`, `sd15-random` (both built under `workdir`) or the path of a local diffusers folder."""
    if spec == "tiny":
        path = build_tiny_pipeline(workdir / "tiny-sd")
        return BenchModel(path, "tiny SD 1.x-style test model (random weights)", TINY_NATIVE_SIZE)
    if spec == "sd15-random":
        path = build_sd15_random(workdir / "sd15-random")
        return BenchModel(path, "SD 1.5 architecture at random weights", SD15_NATIVE_SIZE)
    path = Path(spec).expanduser().resolve()
    if not (path / "model_index.json").is_file():
        raise SystemExit(f"--model {spec}: not 'tiny', 'sd15-random' or a diffusers model folder.")
    unet = UNet2DConditionModel.load_config(path / "unet")
    vae = AutoencoderKL.load_config(path / "vae")
    native = int(unet["sample_size"]) * 2 ** (len(vae["block_out_channels"]) - 1)
    return BenchModel(path, f"local model {path.name}", native)
