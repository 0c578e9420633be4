"""Random LoRAs and embeddings made for the tiny test models, in the formats artists download them in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import save_file
from transformers import CLIPTextModel

RANK = 2


def _layers(model_dir: Path) -> tuple[list[tuple[str, torch.nn.Module]], list[tuple[str, torch.nn.Module]]]:
    """The UNet's attention projections and resnet convolutions, and the text encoder's attention
    projections: the layers kohya's LoCon trains."""
    unet = UNet2DConditionModel.from_pretrained(model_dir / "unet")
    text_encoder = CLIPTextModel.from_pretrained(model_dir / "text_encoder")
    unet_layers = [
        (name, module)
        for name, module in unet.named_modules()
        if name.endswith(("to_q", "to_k", "to_v", "to_out.0", "conv1"))
    ]
    text_layers = [
        (name.removeprefix("text_model."), module)
        for name, module in text_encoder.named_modules()
        if name.endswith(("q_proj", "k_proj", "v_proj", "out_proj"))
    ]
    return unet_layers, text_layers


def _pair(module: torch.nn.Module, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    weight = cast(torch.Tensor, module.weight)
    if weight.ndim == 4:  # LoCon: the down projection has the convolution's kernel, the up one is 1×1
        down = torch.randn((RANK, *weight.shape[1:]), generator=generator) * 0.3
        up = torch.randn((weight.shape[0], RANK, 1, 1), generator=generator) * 0.3
    else:
        down = torch.randn((RANK, weight.shape[1]), generator=generator) * 0.5
        up = torch.randn((weight.shape[0], RANK), generator=generator) * 0.5
    return down, up


def kohya_lora(model_dir: Path, path: Path, seed: int = 1) -> Path:
    """A kohya/AUTOMATIC1111 LoCon: `lora_unet_…`/`lora_te_text_model_…` keys, with alphas."""

    def keys(prefix: str, name: str) -> tuple[str, str, str]:
        key = prefix + name.replace(".", "_")
        return f"{key}.lora_down.weight", f"{key}.lora_up.weight", f"{key}.alpha"

    return _write_lora(model_dir, path, seed, ("lora_unet_", "lora_te_text_model_"), keys, convolutions=True)


def peft_lora(model_dir: Path, path: Path, seed: int = 2) -> Path:
    """A diffusers/PEFT LoRA: `unet.…`/`text_encoder.text_model.…` keys with lora_A/lora_B, no alphas
    (diffusers' own LoRAs train attention only)."""

    def keys(prefix: str, name: str) -> tuple[str, str, None]:
        return f"{prefix}{name}.lora_A.weight", f"{prefix}{name}.lora_B.weight", None

    return _write_lora(model_dir, path, seed, ("unet.", "text_encoder.text_model."), keys, convolutions=False)


def _write_lora(
    model_dir: Path,
    path: Path,
    seed: int,
    prefixes: tuple[str, str],
    keys: Callable[[str, str], tuple[str, str, str | None]],
    *,
    convolutions: bool,
) -> Path:
    generator = torch.Generator().manual_seed(seed)
    tensors = {}
    for prefix, layers in zip(prefixes, _layers(model_dir), strict=True):
        for name, module in layers:
            if cast(torch.Tensor, module.weight).ndim == 4 and not convolutions:
                continue
            down_key, up_key, alpha_key = keys(prefix, name)
            tensors[down_key], tensors[up_key] = _pair(module, generator)
            if alpha_key is not None:
                tensors[alpha_key] = torch.tensor(float(RANK) / 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, path)
    return path


def embedding_of_words(model_dir: Path, words: str, path: Path) -> Path:
    """An AUTOMATIC1111 embedding (`emb_params`) whose vectors are the tiny text encoder's own token
    vectors for `words`: using it must condition exactly as writing the words does."""
    from transformers import CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(model_dir / "tokenizer")
    text_encoder = CLIPTextModel.from_pretrained(model_dir / "text_encoder")
    ids = tokenizer(words, add_special_tokens=False)["input_ids"]
    table = cast(torch.Tensor, text_encoder.get_input_embeddings().weight)
    vectors = table[ids].detach().clone()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"emb_params": vectors.contiguous()}, path)
    return path
