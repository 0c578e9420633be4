"""The diffusers config folders and CLIP tokenizer that ship with Sfumato.

A single-file `.safetensors` checkpoint holds weights only. Diffusers also needs each component's config,
the scheduler settings and the tokenizer; these folders provide them so a checkpoint loads with no network:

    StableDiffusionPipeline.from_single_file(path, config=str(config_dir("sd1")), local_files_only=True)

Each folder mirrors the official pipeline of its family, without safety checker or feature extractor:
`sd1` (SD 1.x), `sd1-inpainting` (9-channel UNet), `sd2` (SD 2.x 512, epsilon), `sd2-v` (SD 2.x 768,
v-prediction) and `sd2-inpainting`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

CONFIG_IDS: tuple[str, ...] = ("sd1", "sd1-inpainting", "sd2", "sd2-v", "sd2-inpainting")


def _resources_root() -> Path:
    root = files("sfumato.resources")
    if not isinstance(root, Path):
        # diffusers and transformers read configs from real folders, so a zipped install cannot work.
        raise RuntimeError(f"Sfumato's resources are not in a folder on disk ({root}); reinstall Sfumato.")
    return root


def config_dir(config_id: str) -> Path:
    """The diffusers pipeline folder (model_index.json and one subfolder per component) for `config_id`."""
    if config_id not in CONFIG_IDS:
        raise ValueError(f"Unknown model config {config_id!r}; known configs are: {', '.join(CONFIG_IDS)}.")
    return _resources_root() / "configs" / config_id


def clip_tokenizer_dir() -> Path:
    """The CLIP BPE tokenizer (vocab.json, merges.txt) shared by SD 1.x and 2.x."""
    return _resources_root() / "tokenizers" / "clip"
