"""The curated catalog of community models Sfumato offers to download (resources/catalog.json).

Each entry names the repository and the commit its file listing was recorded at (see
tests/core/catalog/listings/), what the download weighs in full and half precision, the licence, how to
prompt the model and the settings it works best with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files

from sfumato.core.api import ModelNotFound
from sfumato.core.models.hub_cache import COMMIT

BASES = ("sd1", "sd2")
VARIANTS = ("normal", "inpainting")


class EntryKind(StrEnum):
    CHECKPOINT = "checkpoint"
    PREVIEW_DECODER = "preview-decoder"


@dataclass(frozen=True)
class GenerationDefaults:
    """The settings a model works best with, as its authors recommend."""

    steps: int
    guidance: float
    width: int
    height: int
    sampler: str | None = None


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
    revision: str | None = None  # the commit the recorded listing (and the sizes) come from
    based_on: str = ""
    licence_url: str = ""
    size_bytes_fp16: int | None = None
    trigger_words: tuple[str, ...] = ()
    defaults: GenerationDefaults | None = None
    unavailable: str = ""  # why the model can't be downloaded; empty when it can

    @property
    def inpainting(self) -> bool:
        return self.variant == "inpainting"

    @property
    def available(self) -> bool:
        return not self.unavailable

    def download_bytes(self, *, fp16: bool) -> int:
        """What the download fetches; half-precision weights are smaller where the repository has them."""
        if fp16 and self.size_bytes_fp16 is not None:
            return self.size_bytes_fp16
        return self.size_bytes


def _entry(raw: dict[str, object]) -> CatalogEntry:
    fields = dict(raw)
    fields["kind"] = EntryKind(str(raw["kind"]))
    words = raw.get("trigger_words") or []
    fields["trigger_words"] = tuple(str(word) for word in words) if isinstance(words, list) else ()
    if isinstance(raw.get("defaults"), dict):
        fields["defaults"] = GenerationDefaults(**raw["defaults"])  # type: ignore[arg-type]
    entry = CatalogEntry(**fields)  # type: ignore[arg-type]
    if entry.base not in BASES or entry.variant not in VARIANTS or entry.resolution % 64:
        raise ValueError(f"catalog entry {entry.id!r} has an unknown base, variant or resolution")
    if entry.revision is not None and not COMMIT.fullmatch(entry.revision):
        raise ValueError(f"catalog entry {entry.id!r} pins {entry.revision!r}, which is not a full commit id")
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
