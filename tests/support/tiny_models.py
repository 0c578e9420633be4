"""Tiny, real Stable Diffusion pipelines built from seeded random weights.

They have the same architecture family as SD 1.x (a cross-attention UNet, an AutoencoderKL with a
downsampling factor of 8, a CLIP text encoder and a CLIP BPE tokenizer) but only a few thousand
parameters each, so a 64 px generation takes a fraction of a second on a CPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from diffusers import (
    AutoencoderKL,
    PNDMScheduler,
    StableDiffusionInpaintPipeline,
    StableDiffusionPipeline,
    UNet2DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from tools.word_tokenizer import write_word_tokenizer

NATIVE_SIZE = 64
TEXT_DIM = 32

# Words the tests use often get whole-word merges; anything else still tokenizes letter by letter.
_WORDS = (
    "a",
    "an",
    "the",
    "of",
    "on",
    "in",
    "and",
    "with",
    "at",
    "photo",
    "painting",
    "portrait",
    "cat",
    "dog",
    "horse",
    "house",
    "tree",
    "sky",
    "sea",
    "red",
    "green",
    "blue",
    "yellow",
    "orange",
    "purple",
    "white",
    "black",
    "small",
    "large",
    "circle",
    "square",
    "triangle",
    "background",
    "left",
    "right",
    "top",
    "bottom",
    "centre",
    "center",
    "corner",
    "castle",
    "mountain",
    "forest",
    "river",
)


def write_tiny_tokenizer(folder: Path) -> int:
    """Write a small CLIP-style vocabulary (vocab.json, merges.txt); returns the vocabulary size."""
    return write_word_tokenizer(folder, _WORDS)


def tiny_tokenizer(folder: Path) -> CLIPTokenizer:
    write_tiny_tokenizer(folder)
    return CLIPTokenizer.from_pretrained(folder, pad_token="<|endoftext|>", model_max_length=77)


def _text_encoder(vocab_size: int) -> CLIPTextModel:
    config = CLIPTextConfig(
        vocab_size=vocab_size,
        hidden_size=TEXT_DIM,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        max_position_embeddings=77,
        projection_dim=TEXT_DIM,
        bos_token_id=vocab_size - 2,
        eos_token_id=vocab_size - 1,
        pad_token_id=vocab_size - 1,
    )
    return CLIPTextModel(config)


def _unet(in_channels: int) -> UNet2DConditionModel:
    return UNet2DConditionModel(
        sample_size=NATIVE_SIZE // 8,
        in_channels=in_channels,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TEXT_DIM,
        attention_head_dim=4,
        norm_num_groups=8,
    )


def _vae() -> AutoencoderKL:
    return AutoencoderKL(
        sample_size=NATIVE_SIZE,
        block_out_channels=(8, 16, 16, 16),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=8,
    )


def _scheduler() -> PNDMScheduler:
    # The scheduler configuration SD 1.x checkpoints ship with.
    return PNDMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        num_train_timesteps=1000,
        set_alpha_to_one=False,
        skip_prk_steps=True,
        steps_offset=1,
    )


def build_tiny_pipeline(folder: Path, *, inpainting: bool = False, seed: int = 0) -> Path:
    """Save a tiny SD 1.x-style pipeline (diffusers folder layout, safetensors weights) to `folder`."""
    torch.manual_seed(seed)
    tokenizer = tiny_tokenizer(folder / "tokenizer")
    components = dict(
        vae=_vae(),
        text_encoder=_text_encoder(len(tokenizer)),
        tokenizer=tokenizer,
        unet=_unet(9 if inpainting else 4),
        scheduler=_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline_class: Any = StableDiffusionInpaintPipeline if inpainting else StableDiffusionPipeline
    pipeline_class(**components).save_pretrained(folder, safe_serialization=True)
    return folder
