"""Tell which Stable Diffusion family a single-file checkpoint belongs to, from its header alone.

Only tensor names and shapes are used (see `safetensors_header.read_header`); no tensor data is read.
Checkpoints use the original LDM/CompVis key layout:

- `model.diffusion_model.*`: the UNet. The width of the cross-attention keys (`attn2.to_k`) is the
  text context size: 768 for SD 1.x (CLIP ViT-L), 1024 for SD 2.x (OpenCLIP ViT-H), 2048 for SDXL.
  The first convolution takes 4 latent channels, or 9 for inpainting models (latent + mask + masked image).
- `cond_stage_model.transformer.*`: the SD 1.x CLIP text encoder; `cond_stage_model.model.*`: SD 2.x OpenCLIP.
- `conditioner.embedders.*`: SDXL's pair of text encoders.

SD 2.x comes in two flavours with identical weights' shapes: the 512 px "base" model predicts noise
(epsilon), the 768 px model predicts velocity (v-prediction). The weights cannot tell them apart, so a
non-inpainting SD 2.x checkpoint gets the `sd2-v` configuration by default, since the 768 px v-model and
its fine-tunes are by far the most common; a caller that knows better can pick `sd2` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sfumato.core.api import ModelInvalid
from sfumato.core.models.safetensors_header import TensorInfo

Base = Literal["sd1", "sd2"]

UNET_PREFIX = "model.diffusion_model."
UNET_INPUT_CONV = UNET_PREFIX + "input_blocks.0.0.weight"
CLIP_PREFIX = "cond_stage_model.transformer."
CLIP_POSITIONS = CLIP_PREFIX + "text_model.embeddings.position_embedding.weight"
OPEN_CLIP_PREFIX = "cond_stage_model.model."
OPEN_CLIP_POSITIONS = OPEN_CLIP_PREFIX + "positional_embedding"
SDXL_PREFIX = "conditioner.embedders."
VAE_PREFIX = "first_stage_model."

CONTEXT_DIMS: dict[int, Base] = {768: "sd1", 1024: "sd2"}
SDXL_CONTEXT_DIMS = frozenset({2048, 1280})  # base, refiner

CONFIG_IDS: dict[tuple[Base, bool], str] = {
    ("sd1", False): "sd1",
    ("sd1", True): "sd1-inpainting",
    ("sd2", False): "sd2-v",
    ("sd2", True): "sd2-inpainting",
}

_SUPPORTED = "Sfumato can load Stable Diffusion 1.x and 2.x checkpoints."


@dataclass(frozen=True)
class CheckpointKind:
    """What a checkpoint is, and which bundled configuration folder (`resources/configs/<id>`) fits it."""

    base: Base
    inpainting: bool
    config_id: str


def identify(header: Mapping[str, TensorInfo], *, name: str = "This file") -> CheckpointKind:
    """Identify an SD 1.x / 2.x checkpoint from its header; anything else raises `ModelInvalid`.

    `name` is the file name to use in messages.
    """
    if any(key.startswith(SDXL_PREFIX) for key in header):
        raise _sdxl(name)
    input_conv = header.get(UNET_INPUT_CONV)
    context_dims = {
        info.shape[-1]
        for key, info in header.items()
        if key.startswith(UNET_PREFIX) and key.endswith(".attn2.to_k.weight") and info.shape
    }
    if input_conv is None or len(input_conv.shape) != 4 or not context_dims:
        raise ModelInvalid(
            f"{name} is not a Stable Diffusion checkpoint{_what_it_looks_like(header)}. {_SUPPORTED}"
        )
    if len(context_dims) > 1:
        raise ModelInvalid(
            f"{name} is damaged or was merged badly: its parts expect text of different sizes "
            f"({', '.join(map(str, sorted(context_dims)))}). {_SUPPORTED}"
        )
    (context_dim,) = context_dims
    if context_dim in SDXL_CONTEXT_DIMS:
        raise _sdxl(name)

    base = _base(header, context_dim, name)
    inpainting = _is_inpainting(input_conv.shape[1], name)
    return CheckpointKind(base=base, inpainting=inpainting, config_id=CONFIG_IDS[base, inpainting])


def require_text_encoder_and_vae(header: Mapping[str, TensorInfo], base: Base, name: str) -> None:
    """Refuse a checkpoint that lacks its text encoder or its VAE: only part of a model."""
    text_prefix = CLIP_PREFIX if base == "sd1" else OPEN_CLIP_PREFIX
    missing = [
        part
        for part, prefix in (("text encoder", text_prefix), ("VAE", VAE_PREFIX))
        if not any(key.startswith(prefix) for key in header)
    ]
    if missing:
        raise ModelInvalid(
            f"{name} has no {' and no '.join(missing)} inside, so it is only part of a model. "
            "Sfumato needs a full checkpoint."
        )


def _base(header: Mapping[str, TensorInfo], context_dim: int, name: str) -> Base:
    by_unet = CONTEXT_DIMS.get(context_dim)
    by_text_encoder, text_width = _text_encoder(header)
    if by_unet and by_text_encoder and by_unet != by_text_encoder:
        raise ModelInvalid(
            f"{name} mixes parts of Stable Diffusion 1.x and 2.x, which cannot work together. "
            "Download or export it again."
        )
    if text_width is not None and text_width != context_dim:
        raise ModelInvalid(
            f"{name} is damaged or was merged badly: its text encoder ({text_width} wide) does not fit "
            f"its image model ({context_dim} wide). Download or export it again."
        )
    base = by_unet or by_text_encoder
    if base is None:
        raise ModelInvalid(
            f"{name} is not a Stable Diffusion 1.x or 2.x checkpoint (its image model expects text "
            f"of size {context_dim}, which no supported model uses). {_SUPPORTED}"
        )
    return base


def _text_encoder(header: Mapping[str, TensorInfo]) -> tuple[Base | None, int | None]:
    """Which family the bundled text encoder belongs to, and its width, when the file has one."""
    embeddings: tuple[tuple[str, Base], ...] = ((CLIP_POSITIONS, "sd1"), (OPEN_CLIP_POSITIONS, "sd2"))
    for key, base in embeddings:
        info = header.get(key)
        if info is not None and len(info.shape) == 2:
            return base, info.shape[1]
    if any(key.startswith(CLIP_PREFIX) for key in header):
        return "sd1", None
    if any(key.startswith(OPEN_CLIP_PREFIX) for key in header):
        return "sd2", None
    return None, None


def _is_inpainting(in_channels: int, name: str) -> bool:
    if in_channels == 4:
        return False
    if in_channels == 9:
        return True
    if in_channels == 5:
        raise ModelInvalid(f"{name} is a Stable Diffusion 2 depth model. Depth models are not supported yet.")
    raise ModelInvalid(
        f"{name} is not a model Sfumato knows: its image model takes {in_channels} input channels "
        f"(text-to-image models take 4, inpainting models 9). {_SUPPORTED}"
    )


def _sdxl(name: str) -> ModelInvalid:
    return ModelInvalid(
        f"{name} is a Stable Diffusion XL (SDXL) checkpoint. SDXL checkpoints are not supported yet; "
        "choose a Stable Diffusion 1.x or 2.x model."
    )


def _what_it_looks_like(header: Mapping[str, TensorInfo]) -> str:
    keys = list(header)
    if not keys:
        return " (it holds no tensors at all)"
    if any("lora_" in key or ".lora_A." in key or ".lora_B." in key for key in keys):
        return " but a LoRA, a small add-on that changes a model's style; it cannot be used on its own"
    if all(key.startswith(("encoder.", "decoder.", "quant_conv.", "post_quant_conv.")) for key in keys):
        return " but a VAE (the part that turns latents into pixels); it cannot be used on its own"
    newer = ("double_blocks.", "joint_blocks.", UNET_PREFIX + "double_blocks.", UNET_PREFIX + "joint_blocks.")
    if any(key.startswith(newer) for key in keys):
        return " but a newer kind of model (such as Flux or SD 3)"
    return ""
