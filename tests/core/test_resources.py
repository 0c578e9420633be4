"""The shipped CLIP tokenizer and diffusers config folders that let single-file checkpoints load offline."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import diffusers
import pytest
import torch
from diffusers import AutoencoderKL, DiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from sfumato.core.models.configs import CONFIG_IDS, clip_tokenizer_dir, config_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
START, END = 49406, 49407

# Ids produced by OpenAI's CLIP tokenizer, as quoted by independent projects (the first two appear in
# many CLIP examples); together they cover lower-casing, digits, punctuation, contractions and runs of spaces.
KNOWN_IDS = {
    "a photo of a cat": [START, 320, 1125, 539, 320, 2368, END],
    "a photo of a dog": [START, 320, 1125, 539, 320, 1929, END],
    "a diagram": [START, 320, 22697, END],
    "hello world": [START, 3306, 1002, END],
    "A Photo of a TREE!": [START, 320, 1125, 539, 320, 2677, 256, END],
    "2 dogs and 3 cats": [START, 273, 3255, 537, 274, 3989, END],
    "it's a cat's toy, running   fast": [START, 585, 568, 320, 2368, 568, 5988, 267, 2761, 1953, END],
    "person working at a computer": [START, 2533, 1699, 536, 320, 11639, 652, END],
}

PIPELINES = {
    "sd1": "StableDiffusionPipeline",
    "sd1-inpainting": "StableDiffusionInpaintPipeline",
    "sd2": "StableDiffusionPipeline",
    "sd2-v": "StableDiffusionPipeline",
    "sd2-inpainting": "StableDiffusionInpaintPipeline",
}

# Parameter counts of the official models. SD 1.5's UNet/VAE and CLIP ViT-L/14's text tower are the
# published figures; SD 2's UNet (865,910,724) and OpenCLIP ViT-H text tower with its last layer dropped
# (340,387,840) match independent counts of stabilityai/stable-diffusion-2-1. SD 2's UNet differs from SD 1's
# only by 1024- instead of 768-wide text keys/values: 2 x 256 x (sum of the 16 transformer widths, 12,480)
# = 6,389,760 more weights. An inpainting UNet adds 5 input channels to conv_in: 5 x 320 x 3 x 3 = 14,400.
SD1_UNET = 859_520_964
SD2_UNET = 865_910_724
INPAINT_EXTRA = 5 * 320 * 3 * 3
VAE = 83_653_863
CLIP_VIT_L_TEXT = 123_060_480
OPENCLIP_VIT_H_TEXT = 340_387_840

EXPECTED_PARAMETERS = {
    "sd1": (SD1_UNET, CLIP_VIT_L_TEXT),
    "sd1-inpainting": (SD1_UNET + INPAINT_EXTRA, CLIP_VIT_L_TEXT),
    "sd2": (SD2_UNET, OPENCLIP_VIT_H_TEXT),
    "sd2-v": (SD2_UNET, OPENCLIP_VIT_H_TEXT),
    "sd2-inpainting": (SD2_UNET + INPAINT_EXTRA, OPENCLIP_VIT_H_TEXT),
}
PREDICTION_TYPES = {"sd2-v": "v_prediction"}
NATIVE_SIZES = {"sd2-v": 768}


def _parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _tokenizer(folder: Path, subfolder: str = "") -> CLIPTokenizer:
    return CLIPTokenizer.from_pretrained(folder, subfolder=subfolder, local_files_only=True)


@pytest.fixture(scope="module")
def shared_tokenizer() -> CLIPTokenizer:
    return _tokenizer(clip_tokenizer_dir())


@pytest.mark.parametrize("text", list(KNOWN_IDS))
def test_shipped_tokenizer_reproduces_clip_token_ids(shared_tokenizer: CLIPTokenizer, text: str) -> None:
    assert shared_tokenizer(text).input_ids == KNOWN_IDS[text]


def test_shipped_tokenizer_has_clips_full_vocabulary(shared_tokenizer: CLIPTokenizer) -> None:
    assert len(shared_tokenizer) == 49408
    special = shared_tokenizer.convert_tokens_to_ids(["<|startoftext|>", "<|endoftext|>", "!"])
    assert special == [START, END, 0]


@pytest.mark.parametrize("config_id", CONFIG_IDS)
def test_config_tokenizer_matches_shared_one_and_pads_like_its_family(config_id: str) -> None:
    folder = config_dir(config_id) / "tokenizer"
    for name in ("vocab.json", "merges.txt"):
        assert (folder / name).read_bytes() == (clip_tokenizer_dir() / name).read_bytes(), name

    tokenizer = _tokenizer(config_dir(config_id), subfolder="tokenizer")
    ids = tokenizer("a photo of a cat", padding="max_length", max_length=tokenizer.model_max_length).input_ids
    # SD 2 was trained with OpenCLIP, which pads with zeros ("!"); SD 1 pads with the end token.
    pad = 0 if config_id.startswith("sd2") else END
    assert tokenizer.model_max_length == 77
    assert ids == KNOWN_IDS["a photo of a cat"] + [pad] * (77 - 7)


@pytest.mark.parametrize("config_id", CONFIG_IDS)
def test_config_models_have_the_official_architecture(config_id: str) -> None:
    folder = config_dir(config_id)
    with torch.device("meta"):  # shapes only, no memory
        unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(folder, subfolder="unet"))
        vae = AutoencoderKL.from_config(AutoencoderKL.load_config(folder, subfolder="vae"))
        text_config = CLIPTextConfig.from_pretrained(folder, subfolder="text_encoder", local_files_only=True)
        text_encoder = CLIPTextModel(text_config)

    unet_parameters, text_parameters = EXPECTED_PARAMETERS[config_id]
    assert _parameters(unet) == unet_parameters
    assert _parameters(vae) == VAE
    assert _parameters(text_encoder) == text_parameters
    assert unet.config.in_channels == (9 if config_id.endswith("inpainting") else 4)
    assert unet.config.cross_attention_dim == text_config.hidden_size
    assert unet.config.sample_size * 8 == NATIVE_SIZES.get(config_id, 512)


@pytest.mark.parametrize("config_id", CONFIG_IDS)
def test_model_index_names_the_pipeline_without_safety_checker(config_id: str) -> None:
    index = DiffusionPipeline.load_config(config_dir(config_id))
    assert index["_class_name"] == PIPELINES[config_id]
    assert index["safety_checker"] == [None, None]
    assert index["feature_extractor"] == [None, None]
    assert index["requires_safety_checker"] is False
    for component in ("unet", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert (config_dir(config_id) / component).is_dir(), component


@pytest.mark.parametrize("config_id", CONFIG_IDS)
def test_scheduler_loads_offline_with_the_models_training_objective(config_id: str) -> None:
    index = DiffusionPipeline.load_config(config_dir(config_id))
    scheduler_class = getattr(diffusers, index["scheduler"][1])
    folder = config_dir(config_id)
    scheduler = scheduler_class.from_pretrained(folder, subfolder="scheduler", local_files_only=True)
    assert scheduler.config.prediction_type == PREDICTION_TYPES.get(config_id, "epsilon")
    assert scheduler.config.num_train_timesteps == 1000
    assert (scheduler.config.beta_start, scheduler.config.beta_end) == (0.00085, 0.012)
    assert scheduler.config.beta_schedule == "scaled_linear"


def test_config_ids_match_the_shipped_folders() -> None:
    shipped = {p.name for p in (REPO_ROOT / "resources" / "configs").iterdir() if p.is_dir()}
    assert shipped == set(CONFIG_IDS)
    assert all(config_dir(config_id).is_dir() for config_id in CONFIG_IDS)


def test_unknown_config_id_is_refused() -> None:
    with pytest.raises(ValueError, match="sd1-inpainting"):
        config_dir("sdxl")


def test_every_shipped_config_and_tokenizer_file_is_packaged() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["sfumato.resources"]
    resources = REPO_ROOT / "resources"
    files = [p for sub in ("configs", "tokenizers") for p in (resources / sub).rglob("*") if p.is_file()]
    assert files
    unpackaged = [
        p.relative_to(resources).as_posix()
        for p in files
        if not any(fnmatch.fnmatch(p.name, pattern.rsplit("/", 1)[-1]) for pattern in patterns)
    ]
    assert unpackaged == []
