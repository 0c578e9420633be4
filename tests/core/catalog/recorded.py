"""The real repositories' file listings, as recorded from the hub's public pages (listings/*.json).

The pages show sizes rounded to three digits ("3.44 GB", "743 Bytes") and, for most files, no SHA-256;
a recorded size therefore stands for a range of byte counts, and the contract tests compare with
that precision. Where another source gives a file's exact byte count (a commit diff, or a copy of the
file matched by its SHA-256), the listing records it with that source, and the file stands for that
count alone. A config file whose size no source gives is recorded as "small JSON" and stands for any
count up to SMALL_JSON_MAX. Serving a recording needs a few things the pages don't show, made here and
named as stand-ins: a byte count inside each range, a checksum for LFS files whose SHA-256 was not
published, the contents of model_index.json (or TAESD's config.json), and a commit id for unpinned
entries.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from sfumato.core.models.catalog import CatalogEntry, EntryKind
from sfumato.core.models.hub_cache import MODEL_CONFIG, MODEL_INDEX, SKIPPED_COMPONENTS
from tests.core.downloads.test_plan import SD_INDEX
from tests.support.fake_hub import FakeRepo, git_oid

LISTINGS = Path(__file__).parent / "listings"
_UNITS = {"Bytes": 1, "kB": 1000, "MB": 1000**2, "GB": 1000**3}
_SIZE_TEXT = re.compile(r"(?P<number>\d+(?:\.\d+)?) (?P<unit>Bytes|kB|MB|GB)")
# The parts of a Stable Diffusion 1.x pipeline; the pipeline loads all but the safety checker.
SD_COMPONENTS = {name: value for name, value in SD_INDEX.items() if not name.startswith("_")}
STAND_IN_COMMIT = "0" * 40
SMALL_JSON = "small JSON"
# Every config .json the recorded pages show is under 5 kB (safety_checker/config.json, 4.9 kB, the largest).
SMALL_JSON_MAX = 10_000


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
    size_text: str | None = None  # as a hub page prints it
    size_bytes: int | None = None  # exact, where a commit diff or a SHA-256-matched copy gives it
    size_unknown: str | None = None  # only SMALL_JSON: a config file whose size no source gives
    lfs: bool = False
    sha256: str | None = None  # the LFS pointer's for LFS files, of the contents for the others
    sources: tuple[str, ...] = ()  # keys of the listing's sources, for facts its pages don't show

    def __post_init__(self) -> None:
        if self.size_unknown is not None:
            if self.size_unknown != SMALL_JSON or not self.path.endswith(".json") or self.lfs:
                raise ValueError(f"{self.path}: only a small JSON config may be recorded without a size")
            if self.size_text is not None or self.size_bytes is not None:
                raise ValueError(f"{self.path}: recorded both with and without a size")
        elif self.size_text is None and self.size_bytes is None:
            raise ValueError(f"{self.path}: recorded without a size")
        if self.size_text is not None and self.size_bytes is not None:
            low, high = size_bounds(self.size_text)
            if not low <= self.size_bytes <= high:
                raise ValueError(f"{self.path}: {self.size_bytes} bytes is not {self.size_text}")

    @property
    def bounds(self) -> tuple[int, int]:
        if self.size_bytes is not None:
            return self.size_bytes, self.size_bytes
        if self.size_text is not None:
            return size_bounds(self.size_text)
        return 1, SMALL_JSON_MAX

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
    sources: Mapping[str, str] = field(default_factory=dict)  # where file facts no page shows were read

    @property
    def complete(self) -> bool:
        return not self.folders_not_read

    def covers_pipeline(self) -> bool:
        """model_index.json and every part the pipeline loads have recorded files, even where no page
        lists a folder whole: then the plan takes everything the pipeline loads, as recorded."""
        loaded = SD_COMPONENTS.keys() - SKIPPED_COMPONENTS
        return MODEL_INDEX in self.files and loaded <= set(self.read_components())

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
    sources = raw.get("sources", {})
    files = {}
    for item in raw["files"]:
        file = RecordedFile(**{**item, "sources": tuple(item.get("sources", ()))})
        unknown = set(file.sources) - sources.keys()
        if unknown:
            raise ValueError(f"{entry_id}: {file.path} names sources the listing lacks: {sorted(unknown)}")
        files[file.path] = file
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
        sources=sources,
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
