"""What the Hugging Face cache holds: each model repository, its size on disk and what it shares.

A file the cache stores once can be used by several repositories (huggingface_hub's shared blob
store links identical files of different repos to one copy). Sizes here count each stored file once
per repository, and `shared_bytes` tells how much of that another repository uses as well, so
removing the repository frees less than its size.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import CachedRepoInfo, scan_cache_dir
from huggingface_hub.errors import CacheNotFound
from huggingface_hub.file_download import repo_folder_name

from sfumato.core.models.download_cache import MODEL_INDEX, is_complete_snapshot, read_ref, snapshot_dir
from sfumato.core.models.download_settings import hub_cache_dir

# SDXL and SD 3 pipelines are Stable Diffusion too, but Sfumato cannot load them.
_USABLE_PIPELINE = re.compile(r"StableDiffusion(?!XL|3)\w*Pipeline")
_CONTEXT_WIDTHS = {768: "sd1", 1024: "sd2"}


@dataclass(frozen=True)
class CachedRepo:
    repo_id: str
    path: Path
    commits: tuple[str, ...]
    size_bytes: int  # stored files (each once) plus unfinished downloads
    shared_bytes: int  # part of size_bytes that another repository uses too
    partial_bytes: int
    snapshot: Path | None  # the complete snapshot of the recorded `main`, if any

    @property
    def complete(self) -> bool:
        return self.snapshot is not None


@dataclass(frozen=True)
class PipelineInfo:
    base: str | None
    variant: str | None


def scan(cache: Path | None = None) -> list[CachedRepo]:
    """Every model repository in the cache, including ones with only an unfinished download."""
    cache = cache if cache is not None else hub_cache_dir()
    try:
        info = scan_cache_dir(cache)
    except (CacheNotFound, ValueError, OSError):
        return []
    repos = [repo for repo in info.repos if repo.repo_type == "model"]
    owners: dict[tuple[int, int], set[str]] = defaultdict(set)
    stored: dict[str, dict[tuple[int, int], int]] = {}
    for repo in repos:
        stored[repo.repo_id] = _stored_files(repo)
        for identity in stored[repo.repo_id]:
            owners[identity].add(repo.repo_id)
    partial = _partial_bytes(cache)

    found = []
    for repo in repos:
        files = stored[repo.repo_id]
        partial_bytes = partial.pop(repo.repo_path.name, 0)
        found.append(
            CachedRepo(
                repo_id=repo.repo_id,
                path=repo.repo_path,
                commits=tuple(sorted(revision.commit_hash for revision in repo.revisions)),
                size_bytes=sum(files.values()) + partial_bytes,
                shared_bytes=sum(size for identity, size in files.items() if len(owners[identity]) > 1),
                partial_bytes=partial_bytes,
                snapshot=complete_snapshot(cache, repo.repo_id),
            )
        )
    return found


def partial_download(cache: Path | None, repo_id: str) -> CachedRepo | None:
    """A repository whose first download stopped before any file finished (the scan cannot see it)."""
    cache = cache if cache is not None else hub_cache_dir()
    folder = cache / repo_folder_name(repo_id=repo_id, repo_type="model")
    partial = _partial_bytes(cache).get(folder.name, 0)
    if not folder.is_dir():
        return None
    return CachedRepo(repo_id, folder, (), partial, 0, partial, None)


def complete_snapshot(cache: Path, repo_id: str) -> Path | None:
    commit = read_ref(cache, repo_id, "main")
    if commit is None:
        return None
    snapshot = snapshot_dir(cache, repo_id, commit)
    return snapshot if is_complete_snapshot(snapshot) else None


def usable_pipeline(repo: CachedRepo) -> PipelineInfo | None:
    """Base and variant when a snapshot of `repo` is a Stable Diffusion 1.x/2.x diffusers pipeline."""
    snapshots = [repo.snapshot] if repo.snapshot else sorted((repo.path / "snapshots").glob("*"))
    for snapshot in snapshots:
        model_index = _read_json(snapshot / MODEL_INDEX)
        if model_index is None:
            continue
        if _USABLE_PIPELINE.fullmatch(str(model_index.get("_class_name", ""))):
            return _pipeline_info(snapshot)
    return None


def _pipeline_info(snapshot: Path) -> PipelineInfo:
    unet = _read_json(snapshot / "unet" / "config.json") or {}
    width = unet.get("cross_attention_dim")
    if isinstance(width, list) and width:
        width = width[0]
    in_channels = unet.get("in_channels")
    variant = {4: "normal", 9: "inpainting"}.get(in_channels) if isinstance(in_channels, int) else None
    return PipelineInfo(base=_CONTEXT_WIDTHS.get(width) if isinstance(width, int) else None, variant=variant)


def _stored_files(repo: CachedRepoInfo) -> dict[tuple[int, int], int]:
    """Size of each stored file the repository uses, keyed by its identity on disk."""
    files: dict[tuple[int, int], int] = {}
    for revision in repo.revisions:
        for file in revision.files:
            try:
                status = os.stat(file.blob_path)  # follows a link into the shared store
            except OSError:
                continue
            files[status.st_dev, status.st_ino] = status.st_size
    return files


def _partial_bytes(cache: Path) -> dict[str, int]:
    sizes: dict[str, int] = defaultdict(int)
    for partial in cache.glob("models--*/blobs/*.incomplete"):
        try:
            sizes[partial.parent.parent.name] += partial.stat().st_size
        except OSError:
            continue
    return sizes


def _read_json(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
