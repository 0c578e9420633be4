"""Write a diffusers SD 1.x-style pipeline folder as one `.safetensors` file in the original LDM layout.

This is how community checkpoints are laid out (`model.diffusion_model.*` for the UNet,
`first_stage_model.*` for the VAE, `cond_stage_model.transformer.*` for the CLIP text encoder), so tests
can build real single-file checkpoints from the tiny pipelines. The block numbering is derived from
each component's config, so any depth of UNet or VAE works. `ldm_state_dict` also accepts shape-only
(meta) tensors and can write the text encoder in SD 2.x's OpenCLIP layout, to build full-size headers
without any weights.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
TEXT_PREFIX = "cond_stage_model.transformer.text_model."
OPEN_CLIP_PREFIX = "cond_stage_model.model."

# Inside a UNet residual block LDM numbers the layers of small sequential stacks.
_UNET_RESNET_LAYERS = (
    ("norm1.", "in_layers.0."),
    ("conv1.", "in_layers.2."),
    ("time_emb_proj.", "emb_layers.1."),
    ("norm2.", "out_layers.0."),
    ("conv2.", "out_layers.3."),
    ("conv_shortcut.", "skip_connection."),
)
_VAE_RESNET_LAYERS = (("conv_shortcut.", "nin_shortcut."),)
_OPEN_CLIP_LAYERS = (
    ("layer_norm1.", "ln_1."),
    ("layer_norm2.", "ln_2."),
    ("mlp.fc1.", "mlp.c_fc."),
    ("mlp.fc2.", "mlp.c_proj."),
    ("self_attn.out_proj.", "attn.out_proj."),
)
# The VAE's mid-block attention uses 1x1 convolutions in LDM where diffusers uses linear layers.
_VAE_ATTENTION_LAYERS = (
    ("group_norm.", "norm."),
    ("to_q.", "q."),
    ("to_k.", "k."),
    ("to_v.", "v."),
    ("to_out.0.", "proj_out."),
)

Renames = list[tuple[str, str, tuple[tuple[str, str], ...]]]  # diffusers prefix, LDM prefix, inner renames


def export_ldm_checkpoint(pipeline_dir: Path, out: Path) -> Path:
    """Convert the UNet, VAE and text encoder of `pipeline_dir` into a single LDM-layout file at `out`."""
    state = ldm_state_dict(
        unet=load_file(pipeline_dir / "unet" / "diffusion_pytorch_model.safetensors"),
        unet_config=_config(pipeline_dir / "unet"),
        vae=load_file(pipeline_dir / "vae" / "diffusion_pytorch_model.safetensors"),
        vae_config=_config(pipeline_dir / "vae"),
        text_encoder=load_file(pipeline_dir / "text_encoder" / "model.safetensors"),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file({key: tensor.contiguous() for key, tensor in state.items()}, out)
    return out


def ldm_state_dict(
    *,
    unet: Mapping[str, torch.Tensor],
    unet_config: Mapping[str, Any],
    vae: Mapping[str, torch.Tensor],
    vae_config: Mapping[str, Any],
    text_encoder: Mapping[str, torch.Tensor],
    open_clip: bool = False,
) -> dict[str, torch.Tensor]:
    """The LDM-layout state dict for diffusers component state dicts (which may be meta tensors).

    With `open_clip`, the CLIP text encoder is written the way SD 2.x checkpoints store OpenCLIP.
    """
    state: dict[str, torch.Tensor] = {}
    for key, tensor in _rename(unet, _unet_renames(unet_config)).items():
        state[UNET_PREFIX + key] = tensor
    for key, tensor in _rename(vae, _vae_renames(vae_config)).items():
        state[VAE_PREFIX + key] = _as_conv(tensor) if _is_vae_attention_projection(key) else tensor
    flat_text = {key.removeprefix("text_model."): tensor for key, tensor in text_encoder.items()}
    if open_clip:
        state.update({OPEN_CLIP_PREFIX + key: tensor for key, tensor in _open_clip_layout(flat_text).items()})
    else:
        state.update({TEXT_PREFIX + key: tensor for key, tensor in flat_text.items()})
    return state


def _config(component_dir: Path) -> dict[str, Any]:
    return json.loads((component_dir / "config.json").read_text("utf-8"))


def _rename(state: Mapping[str, torch.Tensor], renames: Renames) -> dict[str, torch.Tensor]:
    renamed: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        for old, new, inner in renames:
            if key.startswith(old):
                renamed[new + _replace_first(key.removeprefix(old), inner)] = tensor
                break
        else:
            raise KeyError(f"no LDM name for {key}")
    return renamed


def _replace_first(rest: str, inner: Iterable[tuple[str, str]]) -> str:
    for old, new in inner:
        if rest.startswith(old):
            return new + rest.removeprefix(old)
    return rest


def _unet_renames(config: Mapping[str, Any]) -> Renames:
    levels = len(config["block_out_channels"])
    per_block = config["layers_per_block"]
    resnet = _UNET_RESNET_LAYERS
    renames: Renames = [
        ("time_embedding.linear_1.", "time_embed.0.", ()),
        ("time_embedding.linear_2.", "time_embed.2.", ()),
        ("conv_in.", "input_blocks.0.0.", ()),
        ("conv_norm_out.", "out.0.", ()),
        ("conv_out.", "out.2.", ()),
        ("mid_block.resnets.0.", "middle_block.0.", resnet),
        ("mid_block.attentions.0.", "middle_block.1.", ()),
        ("mid_block.resnets.1.", "middle_block.2.", resnet),
    ]
    for level in range(levels):
        first_input = 1 + level * (per_block + 1)
        for j in range(per_block):
            renames.append(
                (f"down_blocks.{level}.resnets.{j}.", f"input_blocks.{first_input + j}.0.", resnet)
            )
            renames.append((f"down_blocks.{level}.attentions.{j}.", f"input_blocks.{first_input + j}.1.", ()))
        renames.append(
            (f"down_blocks.{level}.downsamplers.0.conv.", f"input_blocks.{first_input + per_block}.0.op.", ())
        )
        first_output = level * (per_block + 1)
        for j in range(per_block + 1):
            renames.append(
                (f"up_blocks.{level}.resnets.{j}.", f"output_blocks.{first_output + j}.0.", resnet)
            )
            renames.append((f"up_blocks.{level}.attentions.{j}.", f"output_blocks.{first_output + j}.1.", ()))
        # The upsampler follows the last resnet (and its attention, when the block has one).
        upsampler_slot = 2 if "CrossAttn" in config["up_block_types"][level] else 1
        renames.append(
            (
                f"up_blocks.{level}.upsamplers.0.",
                f"output_blocks.{first_output + per_block}.{upsampler_slot}.",
                (),
            )
        )
    return renames


def _vae_renames(config: Mapping[str, Any]) -> Renames:
    levels = len(config["block_out_channels"])
    per_block = config["layers_per_block"]
    resnet, attention = _VAE_RESNET_LAYERS, _VAE_ATTENTION_LAYERS
    renames: Renames = [
        ("encoder.conv_norm_out.", "encoder.norm_out.", ()),
        ("decoder.conv_norm_out.", "decoder.norm_out.", ()),
    ]
    for part in ("encoder", "decoder"):
        renames += [
            (f"{part}.mid_block.resnets.0.", f"{part}.mid.block_1.", resnet),
            (f"{part}.mid_block.resnets.1.", f"{part}.mid.block_2.", resnet),
            (f"{part}.mid_block.attentions.0.", f"{part}.mid.attn_1.", attention),
        ]
    for level in range(levels):
        for j in range(per_block):
            renames.append(
                (f"encoder.down_blocks.{level}.resnets.{j}.", f"encoder.down.{level}.block.{j}.", resnet)
            )
        renames.append(
            (f"encoder.down_blocks.{level}.downsamplers.0.", f"encoder.down.{level}.downsample.", ())
        )
        # LDM numbers decoder levels from the lowest resolution up; diffusers from the first block run.
        ldm_level = levels - 1 - level
        for j in range(per_block + 1):
            renames.append(
                (f"decoder.up_blocks.{level}.resnets.{j}.", f"decoder.up.{ldm_level}.block.{j}.", resnet)
            )
        renames.append((f"decoder.up_blocks.{level}.upsamplers.0.", f"decoder.up.{ldm_level}.upsample.", ()))
    # Layers whose names are the same in both layouts.
    same = ("encoder.conv_in.", "encoder.conv_out.", "decoder.conv_in.", "decoder.conv_out.")
    renames += [(name, name, ()) for name in (*same, "quant_conv.", "post_quant_conv.")]
    return renames


def _is_vae_attention_projection(ldm_key: str) -> bool:
    return ".mid.attn_1." in ldm_key and ldm_key.endswith(
        ("q.weight", "k.weight", "v.weight", "proj_out.weight")
    )


def _as_conv(weight: torch.Tensor) -> torch.Tensor:
    return weight.reshape(*weight.shape, 1, 1)


def _open_clip_layout(text_encoder: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """OpenCLIP names, with each layer's query/key/value projections stacked into one `in_proj`."""
    state: dict[str, torch.Tensor] = {
        "token_embedding.weight": text_encoder["embeddings.token_embedding.weight"],
        "positional_embedding": text_encoder["embeddings.position_embedding.weight"],
        "ln_final.weight": text_encoder["final_layer_norm.weight"],
        "ln_final.bias": text_encoder["final_layer_norm.bias"],
    }
    width = state["positional_embedding"].shape[-1]
    state["text_projection"] = torch.empty(width, width, device=state["positional_embedding"].device)
    layers = sorted({int(key.split(".")[2]) for key in text_encoder if key.startswith("encoder.layers.")})
    for layer in layers:
        ours, theirs = f"encoder.layers.{layer}.", f"transformer.resblocks.{layer}."
        for kind in ("weight", "bias"):
            projections = [text_encoder[f"{ours}self_attn.{p}_proj.{kind}"] for p in "qkv"]
            state[f"{theirs}attn.in_proj_{kind}"] = torch.cat(projections)
        for key, tensor in text_encoder.items():
            if key.startswith(ours):
                rest = _replace_first(key.removeprefix(ours), _OPEN_CLIP_LAYERS)
                if not rest.startswith("self_attn."):  # q, k and v went into in_proj above
                    state[theirs + rest] = tensor
    return state
