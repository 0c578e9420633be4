"""Every model this computer has for Sfumato: listing, removing and checking them.

list_installed()  catalog downloads and other Stable Diffusion pipelines in the Hugging Face
                  cache, imported checkpoints, embeddings and LoRAs, and the demo model
remove(id)        frees the disk space (the demo model stays)
verify(id)        reads every file again and compares it with its recorded checksum
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from huggingface_hub import scan_cache_dir
from huggingface_hub.errors import CacheNotFound

from sfumato.core.api import BadInput, ModelNotFound
from sfumato.core.models import hub_cache
from sfumato.core.models.catalog import CatalogEntry, EntryKind, catalog, find_entry
from sfumato.core.models.hub_cache import MODEL_CONFIG, MODEL_INDEX, SINGLE_MODEL_CLASSES, hub_cache_dir
from sfumato.core.models.integrity import (
    OnFile,
    VerifyReport,
    verify_headers,
    verify_import,
    verify_snapshots,
)
from sfumato.core.models.library import DEMO_ID, ImportedModel, list_imports, normalise_model_id
from sfumato.core.models.source import demo_model_dir, installed_snapshot

PREVIEW_DECODER = str(EntryKind.PREVIEW_DECODER)


class Origin(StrEnum):
    CATALOG = "catalog"
    HUB = "hugging face"
    IMPORTED = "imported"
    DEMO = "built in"


class Status(StrEnum):
    READY = "ready"
    INCOMPLETE = "download unfinished"
    MISSING = "file missing"


@dataclass(frozen=True)
class InstalledModel:
    id: str  # what to pass as the model, or to `remove` and `verify`
    name: str
    kind: str  # checkpoint, embedding, lora, preview-decoder
    origin: Origin
    base: str | None
    variant: str | None
    size_bytes: int
    shared_bytes: int  # part of the size that another model (or the original imported file) also uses
    status: Status
    location: Path
    repo_id: str | None = None

    def matches(self, model_id: str) -> bool:
        """Exactly this model's id or repository id, compared in normalised form (never a blank)."""
        wanted = normalise_model_id(model_id)
        return any(normalise_model_id(name) == wanted for name in (self.id, self.repo_id) if name)


def list_installed() -> list[InstalledModel]:
    models = _hub_models()
    models += [_imported(record) for record in list_imports()]
    demo = _demo()
    if demo is not None:
        models.append(demo)
    return models


def find_installed(model_id: str) -> InstalledModel:
    normalise_model_id(model_id)  # a blank id is refused before anything is looked at
    found = next((model for model in list_installed() if model.matches(model_id)), None)
    if found is None:
        raise ModelNotFound(
            f"There is no installed model '{model_id}'. `sfumato models list` shows them all."
        )
    return found


@dataclass(frozen=True)
class Removed:
    model: InstalledModel
    freed_bytes: int  # less than the model's size when other models still use some of its files


def remove(model_id: str) -> Removed:
    """Delete an installed model's files."""
    model = find_installed(model_id)
    if model.origin is Origin.DEMO or _is_demo_folder(model.location):
        raise BadInput("The demo model comes with Sfumato and cannot be removed.")
    if model.origin is Origin.IMPORTED:
        return Removed(model, _remove_import(model))
    return Removed(model, _remove_cache_repo(model))


def verify(model_id: str, on_file: OnFile | None = None) -> VerifyReport:
    """Read every file of the model again and report each whose contents are not what was recorded."""
    model = find_installed(model_id)
    report_file = on_file or (lambda name: None)
    if model.origin is Origin.IMPORTED:
        record = next(record for record in list_imports() if record.id == model.id)
        return verify_import(record, report_file)
    if model.origin is Origin.DEMO:
        return verify_headers(model.id, model.location, report_file)
    return verify_snapshots(model.id, model.location, report_file)


def _hub_models() -> list[InstalledModel]:
    cache = hub_cache_dir()
    models = []
    seen: set[str] = set()
    for repo in hub_cache.scan(cache):
        seen.add(repo.repo_id.lower())
        entry = find_entry(repo.repo_id)
        if entry is not None:
            models.append(_catalog_model(entry, _at_catalog_commit(repo, cache)))
            continue
        if _is_preview_decoder(repo):
            models.append(
                _cache_model(repo, repo.repo_id, repo.repo_id, PREVIEW_DECODER, Origin.HUB, None, None)
            )
            continue
        pipeline = hub_cache.usable_pipeline(repo)
        if pipeline is not None:
            models.append(
                _cache_model(
                    repo,
                    repo.repo_id,
                    repo.repo_id,
                    "checkpoint",
                    Origin.HUB,
                    pipeline.base,
                    pipeline.variant,
                )
            )
    for entry in catalog():
        partial = hub_cache.partial_download(cache, entry.repo) if entry.repo.lower() not in seen else None
        if partial is not None:
            models.append(_catalog_model(entry, partial))
    return models


def _is_preview_decoder(repo: hub_cache.CachedRepo) -> bool:
    """A downloaded TAESD-style decoder from outside the catalog (the catalog's own has its kind)."""
    if repo.snapshot is None or (repo.snapshot / MODEL_INDEX).exists():
        return False
    try:
        config = json.loads((repo.snapshot / MODEL_CONFIG).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("_class_name") in SINGLE_MODEL_CLASSES


def _at_catalog_commit(repo: hub_cache.CachedRepo, cache: Path) -> hub_cache.CachedRepo:
    """Ready only when the download is at the commit the catalog pins (a download of another commit
    is not the model the catalog describes)."""
    try:
        snapshot: Path | None = installed_snapshot(repo.repo_id, cache_dir=cache)
    except ModelNotFound:
        snapshot = None
    return replace(repo, snapshot=snapshot)


def _catalog_model(entry: CatalogEntry, repo: hub_cache.CachedRepo) -> InstalledModel:
    return _cache_model(
        repo, entry.id, entry.name, str(entry.kind), Origin.CATALOG, entry.base, entry.variant
    )


def _cache_model(
    repo: hub_cache.CachedRepo,
    model_id: str,
    name: str,
    kind: str,
    origin: Origin,
    base: str | None,
    variant: str | None,
) -> InstalledModel:
    return InstalledModel(
        id=model_id,
        name=name,
        kind=kind,
        origin=origin,
        base=base,
        variant=variant,
        size_bytes=repo.size_bytes,
        shared_bytes=repo.shared_bytes,
        status=Status.READY if repo.complete else Status.INCOMPLETE,
        location=repo.path,
        repo_id=repo.repo_id,
    )


def _imported(record: ImportedModel) -> InstalledModel:
    try:
        status = record.file.stat()
        size, links, state = status.st_size, status.st_nlink, Status.READY
    except OSError:
        size, links, state = 0, 1, Status.MISSING
    return InstalledModel(
        id=record.id,
        name=record.name,
        kind=str(record.kind),
        origin=Origin.IMPORTED,
        base=record.base,
        variant=record.variant,
        size_bytes=size,
        shared_bytes=size if links > 1 else 0,  # a hard link to the artist's own file costs no space
        status=state,
        location=record.file,
    )


def _demo() -> InstalledModel | None:
    folder = demo_model_dir()
    if folder is None:
        return None
    size = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
    return InstalledModel(
        id=DEMO_ID,
        name="Demo model",
        kind="checkpoint",
        origin=Origin.DEMO,
        base=None,
        variant="normal",
        size_bytes=size,
        shared_bytes=0,
        status=Status.READY,
        location=folder,
    )


def _is_demo_folder(location: Path) -> bool:
    demo = demo_model_dir()
    if demo is None:
        return False
    demo, location = demo.resolve(), location.resolve()
    return location == demo or demo in location.parents or location in demo.parents


def _remove_import(model: InstalledModel) -> int:
    freed = model.size_bytes - model.shared_bytes
    model.location.unlink(missing_ok=True)
    model.location.with_suffix(".json").unlink(missing_ok=True)
    return freed


def _remove_cache_repo(model: InstalledModel) -> int:
    """Through huggingface_hub's own deletion, which keeps files that other repositories still use."""
    cache = hub_cache_dir()
    try:
        info = scan_cache_dir(cache)
    except CacheNotFound:
        return 0
    commits = [
        revision.commit_hash
        for repo in info.repos
        if repo.repo_type == "model" and repo.repo_path.resolve() == model.location.resolve()
        for revision in repo.revisions
    ]
    # Unfinished downloads belong to this repository alone.
    freed = sum(path.stat().st_size for path in model.location.glob("blobs/*.incomplete"))
    if commits:
        strategy = info.delete_revisions(*commits)
        freed += strategy.expected_freed_size
        strategy.execute()
    if model.location.exists():  # what the cache scan could not see: partial files, broken links
        shutil.rmtree(model.location, ignore_errors=True)
    shutil.rmtree(cache / ".locks" / model.location.name, ignore_errors=True)
    return freed
