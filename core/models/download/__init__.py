"""Downloading a Stable Diffusion pipeline into the standard Hugging Face cache.

    plan = plan_download("owner/model")                 # asks the hub; nothing is written yet
    folder = download(plan, on_progress=show, cancel=stop_event)
    pipeline = StableDiffusionPipeline.from_pretrained(folder, local_files_only=True)

Later, with no network: `cached_snapshot("owner/model")` gives the same folder, at the same commit.

Each file lands in blobs/ only once its checksum matches the hub's listing, and shows up in the
snapshot folder only then; model_index.json comes last and the ref is written after it, so a folder
that looks like a pipeline is always a whole one. A cancelled, failed or killed download leaves its
partial file as `blobs/<name>.incomplete`, and the next download of that model resumes it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

from sfumato.core.models import hub_errors
from sfumato.core.models.download.http import RetryBudget, file_url, request_headers
from sfumato.core.models.download.plan import DownloadPlan, PlannedFile, plan_download
from sfumato.core.models.download.progress import DownloadProgress, ProgressMeter
from sfumato.core.models.download.settings import HubSettings, hub_settings
from sfumato.core.models.download.space import ensure_room
from sfumato.core.models.download.transfer import fetch_file
from sfumato.core.models.hub_cache import (
    MODEL_CONFIG,
    MODEL_INDEX,
    UnsafePath,
    blob_path,
    cached_snapshot,
    incomplete_path,
    link_into_snapshot,
    lock_path,
    publish_blob,
    safe_join,
    snapshot_dir,
    write_ref,
)

__all__ = [
    "DownloadPlan",
    "DownloadProgress",
    "PlannedFile",
    "cached_snapshot",
    "download",
    "plan_download",
]

LOCK_POLL_SECONDS = 0.1


def download(
    plan: DownloadPlan,
    *,
    on_progress: Callable[[DownloadProgress], None],
    cancel: threading.Event,
) -> Path:
    """Fetch what `plan` lists into the Hugging Face cache; returns the snapshot folder.

    Runs on the calling thread and reports through `on_progress` on that thread. Setting `cancel`
    stops it within a second with `DownloadCancelled`. Files already in the cache are not fetched
    again, and a partial file from an earlier attempt (in this process or another) is continued.
    """
    settings = hub_settings()
    if settings.offline:
        raise hub_errors.offline_mode(plan.repo_id)
    try:
        return _download(plan, settings, on_progress, cancel)
    except OSError as error:  # writing to the cache failed
        raise RetryBudget(plan.repo_id, settings).translate(error) from error


def _download(
    plan: DownloadPlan,
    settings: HubSettings,
    on_progress: Callable[[DownloadProgress], None],
    cancel: threading.Event,
) -> Path:
    cache = settings.cache_dir
    snapshot = _checked_snapshot(plan, cache)
    files = _in_download_order(plan.files)
    meter = ProgressMeter(plan.repo_id, total=plan.total_bytes, files_total=len(files), sink=on_progress)
    pending = []
    for file in files:
        if _is_in_snapshot(snapshot, file):
            meter.already_there(file.size)
        else:
            pending.append(file)
    ensure_room(plan.repo_id, cache, sum(_bytes_missing(cache, plan.repo_id, file) for file in pending))

    budget = RetryBudget(plan.repo_id, settings, cancel=cancel, revision=plan.revision)
    for file in pending:
        meter.start_file(file.path, file.size)
        _fetch_into_cache(plan, file, settings, snapshot, budget, cancel, meter)
        meter.finish_file()
    write_ref(cache, plan.repo_id, plan.revision, plan.commit)
    meter.finish()
    return snapshot


def _checked_snapshot(plan: DownloadPlan, cache: Path) -> Path:
    """The snapshot folder, after making sure no name in the plan can lead outside the cache."""
    try:
        validate_repo_id(plan.repo_id)
        snapshot = snapshot_dir(cache, plan.repo_id, plan.commit)
        for file in plan.files:
            safe_join(snapshot, file.path)
            blob_path(cache, plan.repo_id, file.blob_name)
        if plan.revision != plan.commit:
            safe_join(cache, plan.revision)
    except (UnsafePath, HFValidationError, AssertionError) as error:
        raise hub_errors.unsafe_file_name(plan.repo_id, str(error)) from error
    return snapshot


def _in_download_order(files: tuple[PlannedFile, ...]) -> list[PlannedFile]:
    """Small files first (a refused access shows up at once), model_index.json (or a single model's
    config.json) last."""
    return sorted(
        files, key=lambda file: (file.path in (MODEL_INDEX, MODEL_CONFIG), file.is_weight, file.path)
    )


def _is_in_snapshot(snapshot: Path, file: PlannedFile) -> bool:
    pointer = safe_join(snapshot, file.path)
    return pointer.is_file() and pointer.stat().st_size == file.size


def _bytes_missing(cache: Path, repo_id: str, file: PlannedFile) -> int:
    blob = blob_path(cache, repo_id, file.blob_name)
    if blob.is_file():
        return 0
    partial = incomplete_path(blob)
    held = partial.stat().st_size if partial.is_file() else 0
    return file.size - held if held <= file.size else file.size


def _fetch_into_cache(
    plan: DownloadPlan,
    file: PlannedFile,
    settings: HubSettings,
    snapshot: Path,
    budget: RetryBudget,
    cancel: threading.Event,
    meter: ProgressMeter,
) -> None:
    cache = settings.cache_dir
    blob = blob_path(cache, plan.repo_id, file.blob_name)
    with _locked(lock_path(cache, plan.repo_id, file.blob_name), cancel, plan.repo_id):
        if not (blob.is_file() and blob.stat().st_size == file.size):
            blob.parent.mkdir(parents=True, exist_ok=True)
            partial = incomplete_path(blob)
            fetch_file(
                file,
                file_url(settings, plan.repo_id, plan.commit, file.path),
                partial,
                headers=request_headers(settings),
                budget=budget,
                cancel=cancel,
                on_bytes=meter.file_bytes,
            )
            publish_blob(partial, blob)
        link_into_snapshot(blob, safe_join(snapshot, file.path), cache)


@contextmanager
def _locked(path: Path, cancel: threading.Event, repo_id: str) -> Iterator[None]:
    """The lock huggingface_hub takes for the same blob, so no two downloads write one file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(path), mode=0o664)
    while True:
        if cancel.is_set():
            raise hub_errors.cancelled(repo_id)
        try:
            lock.acquire(timeout=LOCK_POLL_SECONDS)
            break
        except filelock.Timeout:
            continue
    try:
        yield
    finally:
        lock.release()
