"""Check, before loading, that a single-file checkpoint has every weight its models need, in the right shape.

diffusers fills a weight the file lacks with random numbers and says nothing, so a damaged or badly
merged checkpoint would load and then paint noise. Here the file's header (names and shapes only,
no data) is run through the same key conversion diffusers uses, on shape-only "meta" tensors, and
compared with models built, also on the meta device, from the configuration folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from diffusers.loaders.single_file_utils import (
    convert_ldm_clip_checkpoint,
    convert_ldm_unet_checkpoint,
    convert_ldm_vae_checkpoint,
    convert_open_clip_checkpoint,
)
from transformers import CLIPTextConfig, CLIPTextModel

from sfumato.core.api import ModelInvalid
from sfumato.core.models.checkpoint_kind import OPEN_CLIP_PREFIX, CheckpointKind
from sfumato.core.models.safetensors_header import TensorInfo

# Past this share of missing weights the file is a different architecture rather than a damaged one.
_MOSTLY_DIFFERENT = 0.25

_PART_NAMES = {"unet": "image model (UNet)", "vae": "VAE", "text_encoder": "text encoder"}


def check_weights_cover_models(
    header: Mapping[str, TensorInfo], kind: CheckpointKind, config_dir: Path, name: str
) -> None:
    """Raise `ModelInvalid` if a weight the models need is missing from the file or has the wrong shape."""
    checkpoint = {key: torch.empty(info.shape, device="meta") for key, info in header.items()}
    with torch.device("meta"):
        unet_config = UNet2DConditionModel.load_config(config_dir, subfolder="unet", local_files_only=True)
        vae_config = AutoencoderKL.load_config(config_dir, subfolder="vae", local_files_only=True)
        text_config = CLIPTextConfig.from_pretrained(
            config_dir, subfolder="text_encoder", local_files_only=True
        )
        models = {
            "unet": UNet2DConditionModel.from_config(unet_config),
            "vae": AutoencoderKL.from_config(vae_config),
            "text_encoder": CLIPTextModel(text_config),
        }
        converted = {
            "unet": convert_ldm_unet_checkpoint(checkpoint, unet_config),
            "vae": convert_ldm_vae_checkpoint(checkpoint, vae_config),
            "text_encoder": _convert_text_encoder(checkpoint, kind, models["text_encoder"]),
        }
    for part, model in models.items():
        _compare(model.state_dict(), converted[part], part, name)


def _convert_text_encoder(
    checkpoint: dict[str, torch.Tensor], kind: CheckpointKind, model: torch.nn.Module
) -> dict[str, torch.Tensor]:
    if kind.base == "sd1":
        weights = convert_ldm_clip_checkpoint(checkpoint)
    else:
        weights = convert_open_clip_checkpoint(model, checkpoint, prefix=OPEN_CLIP_PREFIX)
    if not hasattr(model, "text_model"):
        # Newer transformers keep the CLIP text layers at the top level of the model.
        weights = {key.removeprefix("text_model."): value for key, value in weights.items()}
    return weights


def _compare(
    expected: Mapping[str, torch.Tensor], found: Mapping[str, torch.Tensor | None], part: str, name: str
) -> None:
    part_name = _PART_NAMES[part]
    missing = sorted(key for key in expected if found.get(key) is None)
    if len(missing) > len(expected) * _MOSTLY_DIFFERENT:
        raise ModelInvalid(
            f"{name} does not fit the expected layout: {len(missing)} of the {len(expected)} weights of "
            f"its {part_name} are not where a standard model keeps them. It may be a kind of model "
            "Sfumato does not support."
        )
    if missing:
        raise ModelInvalid(
            f"{name} is incomplete: {len(missing)} weight(s) of its {part_name} are missing "
            f"(for example '{missing[0]}'). Download or export it again."
        )
    for key, tensor in expected.items():
        value = found[key]
        if value is not None and tuple(value.shape) != tuple(tensor.shape):
            raise ModelInvalid(
                f"{name} does not fit the expected layout: weight '{key}' of its {part_name} has shape "
                f"{tuple(value.shape)} instead of {tuple(tensor.shape)}. It may be damaged or a kind of "
                "model Sfumato does not support."
            )
