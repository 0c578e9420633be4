"""Where imported models live: `<data dir>/models/<kind folder>/<name>.safetensors` plus `<name>.json`.

The JSON sidecar records what the file is (kind, base, variant), its SHA-256 and where it came from,
so listing and checking imports never has to open the weights. Names are unique across all kinds of
imports and never take a catalog id or `demo`, so a name alone always means one thing.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
import uuid
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from sfumato.core.api import BadInput
from sfumato.core.paths import data_dir

SIDECAR_VERSION = 1
WEIGHTS_SUFFIX = ".safetensors"
SIDECAR_SUFFIX = ".json"
DEMO_ID = "demo"


class ImportKind(StrEnum):
    CHECKPOINT = "checkpoint"
    EMBEDDING = "embedding"
    LORA = "lora"


_FOLDERS = {
    ImportKind.CHECKPOINT: "checkpoints",
    ImportKind.EMBEDDING: "embeddings",
    ImportKind.LORA: "loras",
}
# Embeddings and LoRAs are named `embedding:NAME` / `lora:NAME`, as in AUTOMATIC1111's `<lora:NAME:1>`.
_ID_PREFIXES = {ImportKind.EMBEDDING: "embedding:", ImportKind.LORA: "lora:"}
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ImportedModel:
    name: str
    kind: ImportKind
    base: str | None  # "sd1" / "sd2", None when an add-on does not say
    variant: str | None  # "normal" / "inpainting" for checkpoints
    sha256: str
    short_hash: str
    size: int
    source_path: str
    converted_from: str | None
    file: Path

    @property
    def id(self) -> str:
        return _ID_PREFIXES.get(self.kind, "") + self.name

    @property
    def sidecar(self) -> Path:
        return self.file.with_suffix(SIDECAR_SUFFIX)


def models_root() -> Path:
    return data_dir() / "models"


def kind_folder(kind: ImportKind) -> Path:
    folder = models_root() / _FOLDERS[kind]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def staging_folder() -> Path:
    """For files being written; on the same drive as the models, so finished ones move in atomically."""
    folder = models_root() / ".staging"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def list_imports() -> list[ImportedModel]:
    found = []
    for kind in ImportKind:
        for sidecar in sorted(kind_folder(kind).glob("*" + SIDECAR_SUFFIX)):
            record = _read_sidecar(sidecar, kind)
            if record is not None:
                found.append(record)
    return found


def normalise_model_id(model_id: str) -> str:
    """The form ids are compared in: Unicode-normalised, trimmed, case-folded. A blank id is refused,
    so that it can never match (and remove) a model by accident."""
    normalised = unicodedata.normalize("NFKC", model_id).strip().casefold()
    if not normalised:
        raise BadInput("No model was named. `sfumato models list` shows the ids of installed models.")
    return normalised


def find_import(model_id: str) -> ImportedModel | None:
    """The import called `model_id` (`NAME`, `embedding:NAME` or `lora:NAME`), if there is one."""
    wanted = normalise_model_id(model_id)
    return next((record for record in list_imports() if normalise_model_id(record.id) == wanted), None)


def free_name(stem: str, reserved: set[str]) -> str:
    """A file-safe name from `stem` that no import uses yet and that is not in `reserved` (lowercase)."""
    base = _UNSAFE_NAME_CHARACTERS.sub("-", stem).strip(".-") or "model"
    # Files left without a sidecar (an interrupted import) keep their name taken, so no import collides.
    on_disk = {path.stem.lower() for kind in ImportKind for path in kind_folder(kind).iterdir()}
    taken = reserved | on_disk | {record.name.lower() for record in list_imports()}
    name, number = base, 2
    while name.lower() in taken:
        name, number = f"{base}-{number}", number + 1
    return name


def write_sidecar(record: ImportedModel) -> None:
    data = {key: value for key, value in asdict(record).items() if key != "file"}
    data["format"] = SIDECAR_VERSION
    staged = record.sidecar.with_name(f".{record.sidecar.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        staged.write_text(json.dumps(data, indent=2), "utf-8")
        os.replace(staged, record.sidecar)
    finally:
        staged.unlink(missing_ok=True)


def _read_sidecar(sidecar: Path, kind: ImportKind) -> ImportedModel | None:
    try:
        data = json.loads(sidecar.read_text("utf-8"))
        return ImportedModel(
            name=str(data["name"]),
            kind=kind,
            base=_optional_text(data.get("base")),
            variant=_optional_text(data.get("variant")),
            sha256=str(data["sha256"]),
            short_hash=str(data["short_hash"]),
            size=int(data["size"]),
            source_path=str(data.get("source_path", "")),
            converted_from=_optional_text(data.get("converted_from")),
            file=sidecar.with_suffix(WEIGHTS_SUFFIX),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged sidecar hides its import rather than breaking every listing


def _optional_text(value: object) -> str | None:
    return None if value is None else str(value)
