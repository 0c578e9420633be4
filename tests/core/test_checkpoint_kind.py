"""Single-file checkpoints are identified from tensor names and shapes in their header.

The files here carry only the tensors that tell the families apart, with the shapes real
checkpoints have, so they are small and quick to write.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from sfumato.core.api import ModelInvalid
from sfumato.core.models.checkpoint_kind import CheckpointKind, identify
from sfumato.core.models.safetensors_header import read_header

UNET = "model.diffusion_model."
CROSS_ATTENTION_KEY = UNET + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"
MID_CROSS_ATTENTION_KEY = UNET + "middle_block.1.transformer_blocks.0.attn2.to_k.weight"
INPUT_CONV = UNET + "input_blocks.0.0.weight"
CLIP_POSITIONS = "cond_stage_model.transformer.text_model.embeddings.position_embedding.weight"
OPEN_CLIP_POSITIONS = "cond_stage_model.model.positional_embedding"
VAE_KEY = "first_stage_model.decoder.conv_in.weight"

Shapes = Mapping[str, tuple[int, ...]]

SD1 = {
    INPUT_CONV: (320, 4, 3, 3),
    CROSS_ATTENTION_KEY: (320, 768),
    MID_CROSS_ATTENTION_KEY: (1280, 768),
    CLIP_POSITIONS: (77, 768),
    VAE_KEY: (512, 4, 3, 3),
}
SD2 = {
    INPUT_CONV: (320, 4, 3, 3),
    CROSS_ATTENTION_KEY: (320, 1024),
    MID_CROSS_ATTENTION_KEY: (1280, 1024),
    OPEN_CLIP_POSITIONS: (77, 1024),
    VAE_KEY: (512, 4, 3, 3),
}
SDXL = {
    INPUT_CONV: (320, 4, 3, 3),
    UNET + "input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight": (640, 2048),
    "conditioner.embedders.0.transformer.text_model.embeddings.position_embedding.weight": (77, 768),
    "conditioner.embedders.1.model.positional_embedding": (77, 1280),
}


def write_checkpoint(path: Path, shapes: Shapes) -> Path:
    save_file({name: torch.zeros(shape, dtype=torch.float16) for name, shape in shapes.items()}, path)
    return path


def identify_file(tmp_path: Path, shapes: Shapes) -> CheckpointKind:
    path = write_checkpoint(tmp_path / "model.safetensors", shapes)
    return identify(read_header(path), name=path.name)


def with_input_channels(shapes: Shapes, channels: int) -> Shapes:
    return {**shapes, INPUT_CONV: (320, channels, 3, 3)}


def refusal(tmp_path: Path, shapes: Shapes) -> str:
    with pytest.raises(ModelInvalid) as caught:
        identify_file(tmp_path, shapes)
    assert "model.safetensors" in caught.value.message
    return caught.value.message


@pytest.mark.parametrize(
    ("shapes", "expected"),
    [
        (SD1, CheckpointKind(base="sd1", inpainting=False, config_id="sd1")),
        (
            with_input_channels(SD1, 9),
            CheckpointKind(base="sd1", inpainting=True, config_id="sd1-inpainting"),
        ),
        (SD2, CheckpointKind(base="sd2", inpainting=False, config_id="sd2-v")),
        (
            with_input_channels(SD2, 9),
            CheckpointKind(base="sd2", inpainting=True, config_id="sd2-inpainting"),
        ),
    ],
    ids=["sd1", "sd1-inpainting", "sd2", "sd2-inpainting"],
)
def test_identifies_sd1_and_sd2_and_their_inpainting_models(
    tmp_path: Path, shapes: Shapes, expected: CheckpointKind
) -> None:
    assert identify_file(tmp_path, shapes) == expected


def test_the_image_model_decides_when_the_text_encoder_is_absent(tmp_path: Path) -> None:
    unet_only = {key: shape for key, shape in SD2.items() if key.startswith(UNET)}
    assert identify_file(tmp_path, unet_only).base == "sd2"


def test_the_text_encoder_decides_for_unusual_widths(tmp_path: Path) -> None:
    small = {INPUT_CONV: (32, 4, 3, 3), CROSS_ATTENTION_KEY: (64, 32), CLIP_POSITIONS: (77, 32)}
    assert identify_file(tmp_path, small).config_id == "sd1"


@pytest.mark.parametrize(
    "shapes",
    [SDXL, {key: shape for key, shape in SDXL.items() if key.startswith(UNET)}],
    ids=["full", "unet-only"],
)
def test_sdxl_is_refused_by_name(tmp_path: Path, shapes: Shapes) -> None:
    assert "SDXL checkpoints are not supported yet" in refusal(tmp_path, shapes)


@pytest.mark.parametrize(
    "shapes",
    [
        {"encoder.layer.0.weight": (8, 8), "classifier.bias": (8,)},
        {"double_blocks.0.img_attn.norm.key_norm.scale": (128,)},
        {"lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": (4, 320)},
        {INPUT_CONV: (320, 4, 3, 3)},
        {},
    ],
    ids=["other-network", "flux", "lora", "no-cross-attention", "no-tensors"],
)
def test_anything_else_is_not_a_stable_diffusion_checkpoint(tmp_path: Path, shapes: Shapes) -> None:
    assert "not a Stable Diffusion checkpoint" in refusal(tmp_path, shapes)


def test_a_lora_is_called_a_lora(tmp_path: Path) -> None:
    lora = {"lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": (4, 320)}
    assert "LoRA" in refusal(tmp_path, lora)


def test_unknown_text_width_without_a_text_encoder_is_refused(tmp_path: Path) -> None:
    odd = {INPUT_CONV: (320, 4, 3, 3), CROSS_ATTENTION_KEY: (320, 512)}
    assert "not a Stable Diffusion 1.x or 2.x checkpoint" in refusal(tmp_path, odd)


def test_parts_of_different_families_are_refused(tmp_path: Path) -> None:
    mixed = {**{k: v for k, v in SD1.items() if k != CLIP_POSITIONS}, OPEN_CLIP_POSITIONS: (77, 1024)}
    assert "mixes parts" in refusal(tmp_path, mixed)


def test_inconsistent_cross_attention_widths_are_refused(tmp_path: Path) -> None:
    broken = {**SD1, MID_CROSS_ATTENTION_KEY: (1280, 1024)}
    assert "768, 1024" in refusal(tmp_path, broken)


def test_depth_and_other_input_layouts_are_refused(tmp_path: Path) -> None:
    assert "depth" in refusal(tmp_path, with_input_channels(SD2, 5))
    assert "7 input channels" in refusal(tmp_path, with_input_channels(SD1, 7))
