"""The real repositories' file listings, as recorded from the hub's public pages (listings/*.json).

The pages show sizes rounded to three digits ("3.44 GB", "743 Bytes") and, for most files, no SHA-256;
a recorded size therefore stands for a range of byte counts, and the contract tests compare with
that precision. Serving a recording needs a few things the pages don't show, made here and named as
stand-ins: a byte count inside each range, a checksum for LFS files whose SHA-256 was not published,
the contents of model_index.json (or TAESD's config.json), and a commit id for unpinned entries.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from sfumato.core.models.catalog import CatalogEntry, EntryKind
from sfumato.core.models.hub_cache import MODEL_CONFIG, MODEL_INDEX
from tests.core.downloads.test_plan import SD_INDEX
from tests.support.fake_hub import FakeRepo, git_oid

LISTINGS = Path(__file__).parent / "listings"
_UNITS = {"Bytes": 1, "kB": 1000, "MB": 1000**2, "GB": 1000**3}
_SIZE_TEXT = re.compile(r"(?P<number>\d+(?:\.\d+)?) (?P<unit>Bytes|kB|MB|GB)")
# The parts of a Stable Diffusion 1.x pipeline; the pipeline loads all but the safety checker.
SD_COMPONENTS = {name: value for name, value in SD_INDEX.items() if not name.startswith("_")}
STAND_IN_COMMIT = "0" * 40


def size_bounds(text: str) -> tuple[int, int]:
    """The byte counts a size as the hub prints it can stand for (it rounds to the last digit shown)."""
    match = _SIZE_TEXT.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a size as the hub prints it")
    number, unit = Decimal(match["number"]), _UNITS[match["unit"]]
    if unit == 1:
        return int(number), int(number)
    half_step = Decimal(1).scaleb(number.as_tuple().exponent) / 2  # type: ignore[arg-type]
    return int((number - half_step) * unit), int((number + half_step) * unit)


@dataclass(frozen=True)
class RecordedFile:
    path: str
    size_text: str
    lfs: bool = False
    sha256: str | None = None

    @property
    def bounds(self) -> tuple[int, int]:
        return size_bounds(self.size_text)

    @property
    def approx_bytes(self) -> int:
        low, high = self.bounds
        return (low + high) // 2


@dataclass(frozen=True)
class RecordedListing:
    entry: str
    repo: str
    commit: str | None
    read_on: str
    pages: tuple[str, ...]
    folders_not_read: tuple[str, ...]
    files: dict[str, RecordedFile]
    index_parts: tuple[str, ...] | None = None  # the parts model_index.json names, when not those read
    commit_short: str | None = None  # the short commit the pages show, when they name no full one
    commit_sources: tuple[str, ...] = ()  # where a full commit no page shows was read

    @property
    def complete(self) -> bool:
        return not self.folders_not_read

    def read_components(self) -> list[str]:
        """The pipeline parts whose folder listing was read."""
        folders = {path.split("/", 1)[0] for path in self.files if "/" in path}
        return sorted(folders & SD_COMPONENTS.keys())

    def without(self, *prefixes: str) -> RecordedListing:
        """The listing as it would be with these files (or whole folders) gone, model_index.json unchanged."""
        kept = {path: file for path, file in self.files.items() if not path.startswith(prefixes)}
        return replace(self, files=kept, index_parts=self.index_parts or tuple(self.read_components()))


def recorded_listing(entry_id: str) -> RecordedListing:
    raw = json.loads((LISTINGS / f"{entry_id}.json").read_text("utf-8"))
    files = {item["path"]: RecordedFile(**item) for item in raw["files"]}
    return RecordedListing(
        entry=raw["entry"],
        repo=raw["repo"],
        commit=raw["commit"],
        read_on=raw["read_on"],
        pages=tuple(raw["pages"]),
        folders_not_read=tuple(raw["folders_not_read"]),
        files=files,
        commit_short=raw.get("commit_short"),
        commit_sources=tuple(raw.get("commit_sources", ())),
    )


def description_stand_in(entry: CatalogEntry, listing: RecordedListing) -> tuple[str, bytes]:
    """model_index.json naming the parts whose folders were read (or TAESD's config.json)."""
    if entry.kind is EntryKind.PREVIEW_DECODER:
        return MODEL_CONFIG, json.dumps({"_class_name": "AutoencoderTiny"}).encode()
    pipeline = "StableDiffusionInpaintPipeline" if entry.inpainting else "StableDiffusionPipeline"
    index: dict[str, object] = {"_class_name": pipeline, "_diffusers_version": "0.30.0"}
    parts = listing.index_parts or listing.read_components()
    index.update({name: SD_COMPONENTS[name] for name in parts})
    return MODEL_INDEX, json.dumps(index).encode()


class RecordedRepo(FakeRepo):
    """A loopback-hub repository whose file list is a recording; only its description file has a body."""

    def __init__(self, entry: CatalogEntry, listing: RecordedListing) -> None:
        self.description, body = description_stand_in(entry, listing)
        super().__init__(listing.repo, {self.description: body}, commit=listing.commit or STAND_IN_COMMIT)
        self.listing = listing

    def info(self) -> dict[str, object]:
        info = super().info()  # lists only the description file, the one file with a body
        served = info["siblings"]
        assert isinstance(served, list)
        recorded = self.listing.files.get(self.description)
        if recorded is not None:  # listed at its recorded size, though its body is the stand-in
            served[0]["size"] = recorded.approx_bytes
        others = [_sibling(file) for file in self.listing.files.values() if file.path != self.description]
        return {**info, "siblings": served + others}


def _sibling(file: RecordedFile) -> dict[str, object]:
    size = file.approx_bytes
    if not file.lfs:
        return {"rfilename": file.path, "size": size, "blobId": git_oid(file.path.encode())}
    sha256 = file.sha256 or hashlib.sha256(file.path.encode()).hexdigest()  # stand-in where unpublished
    return {
        "rfilename": file.path,
        "size": size,
        "blobId": git_oid(sha256.encode()),
        "lfs": {"size": size, "sha256": sha256, "pointerSize": 134},
    }
