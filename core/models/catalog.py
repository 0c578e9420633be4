"""The curated catalog of community models Sfumato offers to download (resources/catalog.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files

from sfumato.core.api import ModelNotFound

BASES = ("sd1", "sd2")
VARIANTS = ("normal", "inpainting")


class EntryKind(StrEnum):
    CHECKPOINT = "checkpoint"
    PREVIEW_DECODER = "preview-decoder"


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    name: str
    repo: str
    kind: EntryKind
    base: str
    variant: str
    resolution: int
    licence: str
    size_bytes: int
    description: str
    prompt_style: str

    @property
    def inpainting(self) -> bool:
        return self.variant == "inpainting"


def _entry(raw: dict[str, object]) -> CatalogEntry:
    entry = CatalogEntry(**{**raw, "kind": EntryKind(str(raw["kind"]))})  # type: ignore[arg-type]
    if entry.base not in BASES or entry.variant not in VARIANTS or entry.resolution % 64:
        raise ValueError(f"catalog entry {entry.id!r} has an unknown base, variant or resolution")
    return entry


@cache
def catalog() -> tuple[CatalogEntry, ...]:
    data = json.loads(files("sfumato.resources").joinpath("catalog.json").read_text("utf-8"))
    return tuple(_entry(raw) for raw in data["models"])


def find_entry(model_id: str) -> CatalogEntry | None:
    wanted = model_id.strip().lower()
    return next((e for e in catalog() if e.id == wanted or e.repo.lower() == wanted), None)


def entry(model_id: str) -> CatalogEntry:
    found = find_entry(model_id)
    if found is None:
        known = ", ".join(e.id for e in catalog())
        raise ModelNotFound(f"'{model_id}' is not in the catalog. Catalog models: {known}.")
    return found
