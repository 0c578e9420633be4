"""Small `.safetensors` files shaped like the add-ons artists download: embeddings and LoRAs."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file

KOHYA_CROSS_ATTENTION = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k"
KOHYA_TEXT_ENCODER = "lora_te_text_model_encoder_layers_0_self_attn_k_proj"
PEFT_CROSS_ATTENTION = "unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k"


def write(path: Path, shapes: dict[str, tuple[int, ...]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({key: torch.randn(shape) for key, shape in shapes.items()}, path)
    return path


def kohya_lora(path: Path, width: int) -> Path:
    return write(
        path,
        {
            f"{KOHYA_CROSS_ATTENTION}.lora_down.weight": (4, width),
            f"{KOHYA_CROSS_ATTENTION}.lora_up.weight": (320, 4),
            f"{KOHYA_CROSS_ATTENTION}.alpha": (),
            f"{KOHYA_TEXT_ENCODER}.lora_down.weight": (4, width),
            f"{KOHYA_TEXT_ENCODER}.lora_up.weight": (width, 4),
        },
    )


def peft_lora(path: Path, width: int) -> Path:
    return write(
        path,
        {
            f"{PEFT_CROSS_ATTENTION}.lora_A.weight": (4, width),
            f"{PEFT_CROSS_ATTENTION}.lora_B.weight": (640, 4),
        },
    )


def a1111_embedding(path: Path, width: int) -> Path:
    return write(path, {"emb_params": (3, width)})


def diffusers_embedding(path: Path, width: int) -> Path:
    return write(path, {"<cat-toy>": (width,)})
