"""Turning what the artist typed as a model into something on disk the engine can load."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

from sfumato.core.api import ModelInvalid, ModelNotFound, SfumatoError
from sfumato.core.models.catalog import find_entry
from sfumato.core.models.hub_cache import cached_snapshot
from sfumato.core.models.library import DEMO_ID, ImportKind, find_import, normalise_model_id

LEGACY_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin")


class SourceKind(StrEnum):
    FOLDER = "folder"  # a diffusers pipeline folder (model_index.json and component folders)
    SINGLE_FILE = "single_file"  # one .safetensors checkpoint in the original (LDM) layout


@dataclass(frozen=True)
class ModelSource:
    path: Path
    kind: SourceKind
    name: str
    variant: str | None = None  # "fp16" for a folder that has only half-precision weights


def resolve_model(reference: str) -> ModelSource:
    """What the artist named as the model, found on this computer without any network.

    In order: a folder or file path; `demo`; an imported checkpoint's name; a catalog id
    (`openjourney`); a Hugging Face repo id (`prompthero/openjourney`) downloaded into the HF cache,
    at the commit the catalog pins it to, or else the one recorded when it was downloaded.
    """
    text = reference.strip()
    if not text:
        raise ModelNotFound("No model was given. Name a model from `sfumato models list`, or a model's path.")
    if Path(text).expanduser().exists():
        return resolve_local(text)
    if normalise_model_id(text) == DEMO_ID:
        return _demo_source()
    imported = find_import(text)
    if imported is not None and imported.kind is ImportKind.CHECKPOINT:
        if not imported.file.is_file():
            raise ModelNotFound(
                f"The imported model '{imported.name}' is missing its file {imported.file}. "
                f"Import it again from {imported.source_path}."
            )
        return ModelSource(imported.file, SourceKind.SINGLE_FILE, imported.name)
    entry = find_entry(text)
    if entry is not None:
        return _cached_repo(entry.repo, name=entry.id, download_id=entry.id)
    if _is_repo_id(text):
        return _cached_repo(text, name=text, download_id=text)
    raise ModelNotFound(
        f"No model called '{text}': it is not a file or folder, an imported model, a catalog model or a "
        "downloaded Hugging Face model. See `sfumato models list` for the models you have."
    )


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


def installed_snapshot(repo_id: str, *, cache_dir: Path | None = None) -> Path:
    """The finished download of `repo_id`, found without any network: a catalog model at the commit
    the catalog pins it to, any other repository at the commit its `main` had when downloaded.

    A catalog model downloaded from `main` before the catalog pinned it is still found (its download
    stays usable); once the pinned commit is installed, that one is used.

    Raises `ModelNotFound` when it was never downloaded or did not finish.
    """
    entry = find_entry(repo_id)
    revision = entry.revision if entry is not None and entry.repo.lower() == repo_id.lower() else None
    if revision is None:
        return cached_snapshot(repo_id, cache_dir=cache_dir)
    try:
        return cached_snapshot(repo_id, revision=revision, cache_dir=cache_dir)
    except ModelNotFound:
        return cached_snapshot(repo_id, cache_dir=cache_dir)


def _cached_repo(repo_id: str, *, name: str, download_id: str) -> ModelSource:
    try:
        snapshot = installed_snapshot(repo_id)
    except ModelNotFound:
        raise ModelNotFound(
            f"The model '{name}' has not been downloaded (or its download did not finish). "
            f"Download it with `sfumato models download {download_id}`."
        ) from None
    return ModelSource(snapshot, SourceKind.FOLDER, name, variant=_weights_variant(snapshot))


def _weights_variant(folder: Path) -> str | None:
    """ "fp16" when the UNet comes only as half-precision weights (diffusers must be told to load those)."""
    unet = folder / "unet"
    if (unet / "diffusion_pytorch_model.safetensors").exists():
        return None
    return "fp16" if any(unet.glob("diffusion_pytorch_model*.fp16.safetensors")) else None


def _is_repo_id(text: str) -> bool:
    if text.count("/") != 1:
        return False
    try:
        validate_repo_id(text)
    except HFValidationError:
        return False
    return True


def demo_model_dir() -> Path | None:
    """The folder of the demo model that comes with Sfumato, when this installation has one."""
    try:
        demo = importlib.import_module("sfumato.core.demo")
        folder = Path(demo.demo_model_dir())
    except (ImportError, AttributeError, OSError, SfumatoError):
        return None
    return folder if (folder / "model_index.json").is_file() else None


def _demo_source() -> ModelSource:
    folder = demo_model_dir()
    if folder is None:
        raise ModelNotFound("This installation of Sfumato has no demo model. Download a model instead.")
    return ModelSource(folder.resolve(), SourceKind.FOLDER, DEMO_ID)
