"""The upscaler models Sfumato offers to download (resources/upscalers.json), and their download.

Each entry names a Hugging Face repository that publishes the upscaler as one safetensors file. The
file comes through the same downloader as every model (resumed after an interruption, its checksum
checked), into the Hugging Face cache; an entry that records the file's SHA-256 also refuses a file
that changed since the catalog was written.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from sfumato.core.api import ModelInvalid, ModelNotFound
from sfumato.core.models.download import download
from sfumato.core.models.download.plan import DEFAULT_REVISION, DownloadPlan, fetch_listing, planned_file
from sfumato.core.models.download.progress import DownloadProgress
from sfumato.core.models.hub_cache import hub_cache_dir, read_ref, snapshot_dir


@dataclass(frozen=True)
class UpscalerEntry:
    id: str
    name: str
    repo: str
    file: str
    size_bytes: int
    scale: int
    licence: str
    description: str
    revision: str | None = None
    sha256: str | None = None
    licence_url: str = ""


@cache
def upscaler_catalog() -> tuple[UpscalerEntry, ...]:
    data = json.loads(files("sfumato.resources").joinpath("upscalers.json").read_text("utf-8"))
    return tuple(UpscalerEntry(**raw) for raw in data["upscalers"])


def find_upscaler_entry(upscaler_id: str) -> UpscalerEntry | None:
    wanted = upscaler_id.strip().casefold()
    return next((entry for entry in upscaler_catalog() if entry.id == wanted), None)


def downloaded_file(entry: UpscalerEntry) -> Path | None:
    """Where the downloaded upscaler is, or None before it is downloaded."""
    cache_dir = hub_cache_dir()
    commit = read_ref(cache_dir, entry.repo, entry.revision or DEFAULT_REVISION)
    if commit is None:
        return None
    path = snapshot_dir(cache_dir, entry.repo, commit) / entry.file
    return path if path.is_file() else None


def plan_upscaler_download(entry: UpscalerEntry) -> DownloadPlan:
    revision = entry.revision or DEFAULT_REVISION
    listing = fetch_listing(entry.repo, revision)
    listed = listing.files.get(entry.file)
    if listed is None:
        raise ModelNotFound(
            f"“{entry.repo}” no longer has {entry.file}, so {entry.name} cannot be downloaded."
        )
    planned = planned_file(entry.repo, listed)
    if entry.sha256 is not None and planned.sha256 != entry.sha256:
        raise ModelInvalid(
            f"{entry.file} in “{entry.repo}” is not the file the catalog describes (its checksum changed); "
            "Sfumato will not download it."
        )
    return DownloadPlan(repo_id=entry.repo, revision=revision, commit=listing.commit, files=(planned,))


def download_upscaler(
    entry: UpscalerEntry, *, on_progress: Callable[[DownloadProgress], None], cancel: threading.Event
) -> Path:
    """Download `entry` (continuing an interrupted download); returns the file."""
    snapshot = download(plan_upscaler_download(entry), on_progress=on_progress, cancel=cancel)
    return snapshot / entry.file
