"""Tell a checkpoint, a textual-inversion embedding and a LoRA apart from tensor names and shapes.

- Checkpoints hold a whole UNet: `model.diffusion_model.*` (see `checkpoint_kind`).
- Embeddings hold a few token vectors: `emb_params` (AUTOMATIC1111 .safetensors), `string_to_param.*`
  (converted AUTOMATIC1111 .pt files), `clip_l`/`clip_g` (SDXL), or one bare vector table per token
  (diffusers' learned_embeds), each `(tokens, width)` or `(width,)`.
- LoRAs hold pairs of low-rank matrices: `lora_up`/`lora_down` (kohya), `lora_A`/`lora_B` (PEFT,
  diffusers), or the LyCORIS variants (`hada_`, `lokr_`).

The width of the text the add-on works with says which family it is for: 768 for SD 1.x, 1024 for
SD 2.x, 1280/2048 for SDXL.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from sfumato.core.api import ModelInvalid
from sfumato.core.models.checkpoint_kind import SDXL_PREFIX, UNET_PREFIX
from sfumato.core.models.safetensors_header import TensorInfo

TEXT_WIDTHS = {768: "sd1", 1024: "sd2"}
SDXL_TEXT_WIDTHS = frozenset({1280, 2048})

_LORA_MARKERS = ("lora_up.", "lora_down.", ".lora_A.", ".lora_B.", "lora_A.weight", "lora_B.weight")
_LYCORIS_MARKERS = (".hada_w1_a", ".hada_w1_b", ".lokr_w1", ".lokr_w2")
_EMBEDDING_KEYS = ("emb_params", "string_to_param.")
_SDXL_EMBEDDING_KEYS = frozenset({"clip_l", "clip_g"})
_MOST_EMBEDDING_TENSORS = 4


class FileKind(StrEnum):
    CHECKPOINT = "checkpoint"
    EMBEDDING = "embedding"
    LORA = "lora"
    OTHER = "other"


def classify(header: Mapping[str, TensorInfo]) -> FileKind:
    keys = list(header)
    if any(key.startswith((UNET_PREFIX, SDXL_PREFIX)) for key in keys):
        return FileKind.CHECKPOINT
    if any(marker in key for key in keys for marker in (*_LORA_MARKERS, *_LYCORIS_MARKERS)):
        return FileKind.LORA
    if _looks_like_embedding(header):
        return FileKind.EMBEDDING
    return FileKind.OTHER


def embedding_base(header: Mapping[str, TensorInfo], name: str) -> str | None:
    """The family an embedding is for (None when its width is unusual); SDXL ones are refused."""
    if _SDXL_EMBEDDING_KEYS & set(header):
        raise _sdxl_add_on(name, "embedding")
    widths = {info.shape[-1] for info in header.values() if info.shape}
    if widths & SDXL_TEXT_WIDTHS:
        raise _sdxl_add_on(name, "embedding")
    return _family(widths)


def lora_base(header: Mapping[str, TensorInfo], name: str) -> str | None:
    """The family a LoRA is for, from its cross-attention and text-encoder layers; SDXL is refused."""
    keys = list(header)
    if any(part in key for key in keys for part in ("lora_te2_", "text_encoder_2.")):
        raise _sdxl_add_on(name, "LoRA")
    cross_attention, text = lora_widths(header)
    widths = cross_attention | text
    if widths & SDXL_TEXT_WIDTHS:
        raise _sdxl_add_on(name, "LoRA")
    return _family(widths)


def lora_widths(header: Mapping[str, TensorInfo]) -> tuple[set[int], set[int]]:
    """The widths of text a LoRA's cross-attention layers and its text-encoder layers take in."""
    down = {key: info.shape[-1] for key, info in header.items() if _is_down_projection(key) and info.shape}
    cross_attention = {width for key, width in down.items() if _is_cross_attention_key(key)}
    text = {width for key, width in down.items() if _is_text_encoder_key(key) and _takes_text(key)}
    return cross_attention, text


def _looks_like_embedding(header: Mapping[str, TensorInfo]) -> bool:
    keys = set(header)
    if not keys or len(keys) > _MOST_EMBEDDING_TENSORS:
        return False
    if keys & _SDXL_EMBEDDING_KEYS or any(key.startswith(_EMBEDDING_KEYS) for key in keys):
        return True
    # diffusers' learned_embeds: one small table per token, named after the token, e.g. "<cat-toy>".
    return all(len(info.shape) in (1, 2) and "." not in key for key, info in header.items())


def _is_down_projection(key: str) -> bool:
    return any(part in key for part in ("lora_down.", ".lora_A.", "lora_A.weight", ".down.weight"))


def _is_cross_attention_key(key: str) -> bool:
    return "attn2" in key and ("to_k" in key or "to_v" in key)


def _takes_text(key: str) -> bool:
    """A text-encoder layer whose input is the encoder's width (not the wider MLP's)."""
    return any(part in key for part in ("q_proj", "k_proj", "v_proj", "out_proj", "fc1"))


def _is_text_encoder_key(key: str) -> bool:
    return key.startswith(("lora_te_", "lora_te1_", "text_encoder.", "te_"))


def _family(widths: set[int]) -> str | None:
    families = {TEXT_WIDTHS[width] for width in widths if width in TEXT_WIDTHS}
    return families.pop() if len(families) == 1 else None


def _sdxl_add_on(name: str, what: str) -> ModelInvalid:
    return ModelInvalid(
        f"{name} is a Stable Diffusion XL (SDXL) {what}. SDXL is not supported yet; "
        f"choose a {what} made for Stable Diffusion 1.x or 2.x."
    )
