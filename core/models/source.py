"""Turning what the artist typed as a model into something on disk the engine can load."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sfumato.core.api import ModelInvalid, ModelNotFound

LEGACY_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin")


class SourceKind(StrEnum):
    FOLDER = "folder"  # a diffusers pipeline folder (model_index.json and component folders)
    SINGLE_FILE = "single_file"  # one .safetensors checkpoint in the original (LDM) layout


@dataclass(frozen=True)
class ModelSource:
    path: Path
    kind: SourceKind
    name: str


def resolve_local(reference: str) -> ModelSource:
    """A local diffusers folder or `.safetensors` file, or a clear error saying what is wrong."""
    path = Path(reference).expanduser()
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise ModelInvalid(
                f"The folder '{path}' is not a diffusers model: it has no model_index.json. "
                "Point to the model's top folder, or to a single .safetensors checkpoint."
            )
        return ModelSource(path.resolve(), SourceKind.FOLDER, path.resolve().name)
    if path.is_file():
        if path.suffix.lower() in LEGACY_SUFFIXES:
            raise ModelInvalid(
                f"'{path.name}' is a legacy pickle checkpoint, which can run hidden code when loaded. "
                "Convert it to .safetensors first with `sfumato models convert`."
            )
        return ModelSource(path.resolve(), SourceKind.SINGLE_FILE, path.stem)
    raise ModelNotFound(
        f"No model found at '{reference}'. Give a diffusers model folder or a .safetensors checkpoint."
    )
