"""Load a community single-file checkpoint (`.safetensors`, original LDM key layout) as a pipeline.

The file is checked and identified from its header first, and its weights are matched against the
models they are meant for (names and shapes only); only then does diffusers read the
weights, using a bundled configuration folder for everything the weights do not say (layer sizes,
scheduler, tokenizer). Nothing is fetched from the network and nothing is unpickled.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from diffusers import StableDiffusionInpaintPipeline, StableDiffusionPipeline

from sfumato.core.api import ModelInvalid, OutOfMemory, SfumatoError
from sfumato.core.models.checkpoint_kind import (
    CheckpointKind,
    identify,
    require_text_encoder_and_vae,
)
from sfumato.core.models.safetensors_header import read_header
from sfumato.core.models.weight_coverage import check_weights_cover_models

SAFETENSORS_SUFFIX = ".safetensors"

_FAMILY_NAMES = {"sd1": "Stable Diffusion 1.x", "sd2": "Stable Diffusion 2.x"}


def load_single_file(
    path: Path,
    *,
    config_dir: Path | None = None,
    torch_dtype: torch.dtype = torch.float32,
) -> StableDiffusionPipeline | StableDiffusionInpaintPipeline:
    """Check, identify and load `path`; inpainting checkpoints give a `StableDiffusionInpaintPipeline`.

    `config_dir` is a diffusers pipeline folder without weights (model_index.json, per-component
    configs, tokenizer); by default the bundled one for the identified kind is used.
    Raises `ModelInvalid` for anything wrong with the file, with a message naming the file.
    """
    header = read_header(path)
    kind = identify(header, name=path.name)
    require_text_encoder_and_vae(header, kind.base, path.name)
    if path.suffix != SAFETENSORS_SUFFIX:
        # diffusers picks its reader by the file name and would treat anything else as a pickle.
        raise ModelInvalid(
            f"{path.name} is a safetensors file, but its name does not end in .safetensors. "
            "Rename it so that it does, then add it again."
        )
    config = config_dir if config_dir is not None else _bundled_config_dir(kind)
    if not (config / "model_index.json").is_file():
        # A missing folder would make diffusers go looking for it on the Hugging Face Hub.
        raise SfumatoError(
            f"Sfumato's settings for {_describe(kind)} models are missing ({config}). Reinstall Sfumato."
        )

    pipeline_class = StableDiffusionInpaintPipeline if kind.inpainting else StableDiffusionPipeline
    with _reported_as_model_errors(path.name, kind):
        check_weights_cover_models(header, kind, config, path.name)
        return pipeline_class.from_single_file(
            str(path),
            config=str(config),
            local_files_only=True,
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
            torch_dtype=torch_dtype,
        )


@contextmanager
def _reported_as_model_errors(name: str, kind: CheckpointKind) -> Iterator[None]:
    """Turn whatever diffusers raises on a file it cannot use into a message for the artist."""
    try:
        yield
    except SfumatoError:
        raise
    except (MemoryError, torch.OutOfMemoryError) as error:
        raise OutOfMemory(
            f"There is not enough memory to load {name}. Close other programs or models and try again."
        ) from error
    except Exception as error:
        raise ModelInvalid(
            f"{name} could not be loaded as a {_describe(kind)} model ({_first_line(error)}). "
            "The file may be damaged or not what it seems; download or export it again."
        ) from error


def _bundled_config_dir(kind: CheckpointKind) -> Path:
    from sfumato.core.models.configs import config_dir

    return Path(config_dir(kind.config_id))


def _describe(kind: CheckpointKind) -> str:
    family = _FAMILY_NAMES[kind.base]
    return f"{family} inpainting" if kind.inpainting else family


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line if len(line) <= 200 else line[:197] + "..."
