"""The Hugging Face cache layout, written the same way huggingface_hub writes it.

    <cache>/models--owner--name/
        blobs/<sha256 or git oid>           file contents (plus `<blob>.incomplete` while downloading)
        snapshots/<commit>/<repo path>      relative symlinks into blobs/ (copies where links fail)
        refs/<revision>                     the commit a branch or tag pointed to when downloaded
    <cache>/.locks/models--owner--name/<blob>.lock

so diffusers, transformers and the `hf` command see an ordinary cache. Every path built from a name
the server sent goes through `safe_join`, which refuses anything that would leave its folder.

What the Hugging Face cache holds: each model repository, its size on disk and what it shares.

A file the cache stores once can be used by several repositories (huggingface_hub's shared blob
store links identical files of different repos to one copy). Sizes here count each stored file once
per repository, and `shared_bytes` tells how much of that another repository uses as well, so
removing the repository frees less than its size.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import CachedRepoInfo, constants, scan_cache_dir
from huggingface_hub.errors import CacheNotFound
from huggingface_hub.file_download import are_symlinks_supported, repo_folder_name

from sfumato.core.api import ModelNotFound

COMMIT = re.compile(r"[0-9a-f]{40}")
GIT_OID = re.compile(r"[0-9a-f]{40}")
SHA256 = re.compile(r"[0-9a-f]{64}")
_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:")
MODEL_INDEX = "model_index.json"
# A repository holding one diffusers model rather than a pipeline: only these classes are downloaded.
MODEL_CONFIG = "config.json"
SINGLE_MODEL_CLASSES = frozenset({"AutoencoderTiny"})
SINGLE_MODEL_WEIGHTS = "diffusion_pytorch_model"
# Parts of a pipeline that a download leaves out on purpose (see download/selection.py).
SKIPPED_COMPONENTS = frozenset({"safety_checker"})


class UnsafePath(ValueError):
    """A name from the server that would point outside the folder it belongs in."""


def is_safe_repo_path(name: str) -> bool:
    """A relative, forward-slash path with no empty, `.` or `..` parts, as the hub itself allows."""
    if not name or name.startswith("/") or "\\" in name or _WINDOWS_DRIVE.match(name):
        return False
    if any(ord(char) < 32 for char in name):
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def safe_join(root: Path, relative: str) -> Path:
    if not is_safe_repo_path(relative):
        raise UnsafePath(relative)
    path = root.joinpath(*relative.split("/"))
    base = os.path.abspath(root)
    if os.path.commonpath([base, os.path.abspath(path)]) != base:
        raise UnsafePath(relative)
    return path


def is_blob_name(name: str) -> bool:
    return bool(SHA256.fullmatch(name) or GIT_OID.fullmatch(name))


def repo_storage(cache_dir: Path, repo_id: str) -> Path:
    return cache_dir / repo_folder_name(repo_id=repo_id, repo_type="model")


def snapshot_dir(cache_dir: Path, repo_id: str, commit: str) -> Path:
    if not COMMIT.fullmatch(commit):
        raise UnsafePath(commit)
    return repo_storage(cache_dir, repo_id) / "snapshots" / commit


def blob_path(cache_dir: Path, repo_id: str, blob_name: str) -> Path:
    if not is_blob_name(blob_name):
        raise UnsafePath(blob_name)
    return repo_storage(cache_dir, repo_id) / "blobs" / blob_name


def incomplete_path(blob: Path) -> Path:
    return blob.with_name(blob.name + ".incomplete")


def lock_path(cache_dir: Path, repo_id: str, blob_name: str) -> Path:
    if not is_blob_name(blob_name):
        raise UnsafePath(blob_name)
    return cache_dir / ".locks" / repo_folder_name(repo_id=repo_id, repo_type="model") / f"{blob_name}.lock"


def publish_blob(finished: Path, blob: Path) -> None:
    """Move a verified download into place with the permissions a new file in blobs/ would get."""
    probe = blob.parent / f".probe-{uuid.uuid4().hex}"
    try:
        probe.touch()
        os.chmod(finished, stat.S_IMODE(probe.stat().st_mode))
    except OSError:
        pass
    finally:
        probe.unlink(missing_ok=True)
    os.replace(finished, blob)


def link_into_snapshot(blob: Path, pointer: Path, cache_dir: Path) -> None:
    """Make `pointer` show `blob`: a relative symlink, or a copy where symlinks are not allowed."""
    pointer.parent.mkdir(parents=True, exist_ok=True)
    staged = pointer.with_name(f".{pointer.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        if are_symlinks_supported(cache_dir):
            os.symlink(os.path.relpath(blob, pointer.parent), staged)
        else:
            shutil.copyfile(blob, staged)
        os.replace(staged, pointer)
    finally:
        if os.path.lexists(staged):
            staged.unlink()


def write_ref(cache_dir: Path, repo_id: str, revision: str, commit: str) -> None:
    """Record which commit `revision` meant (nothing to record when it already is that commit)."""
    if revision == commit:
        return
    ref = safe_join(repo_storage(cache_dir, repo_id) / "refs", revision)
    ref.parent.mkdir(parents=True, exist_ok=True)
    staged = ref.with_name(f".{ref.name}.{uuid.uuid4().hex[:8]}.tmp")
    staged.write_text(commit, encoding="ascii")
    os.replace(staged, ref)


def read_ref(cache_dir: Path, repo_id: str, revision: str) -> str | None:
    if COMMIT.fullmatch(revision):
        return revision
    try:
        ref = safe_join(repo_storage(cache_dir, repo_id) / "refs", revision)
        commit = ref.read_text(encoding="ascii").strip()
    except (OSError, UnsafePath):
        return None
    return commit if COMMIT.fullmatch(commit) else None


def cached_snapshot(repo_id: str, *, revision: str | None = None, cache_dir: Path | None = None) -> Path:
    """The folder of a finished download of `repo_id`, at the exact commit recorded for `revision`.

    Needs no network: load it with `from_pretrained(path, local_files_only=True)`. Raises
    `ModelNotFound` when the model was never downloaded or its download did not finish.
    """
    cache = cache_dir if cache_dir is not None else hub_cache_dir()
    commit = read_ref(cache, repo_id, revision or "main")
    snapshot = snapshot_dir(cache, repo_id, commit) if commit else None
    if snapshot is None or not is_complete_snapshot(snapshot):
        raise ModelNotFound(
            f"“{repo_id}” has not been downloaded yet, or its download did not finish. "
            "Download it again: it continues where it stopped."
        )
    return snapshot


def is_complete_snapshot(snapshot: Path) -> bool:
    """model_index.json is linked last, and every part it names has its folder.

    A single model's config.json is linked last the same way, after its weights.
    """
    try:
        model_index = json.loads((snapshot / MODEL_INDEX).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _is_complete_single_model(snapshot)
    except (OSError, ValueError):
        return False
    if not isinstance(model_index, dict):
        return False
    for name, value in model_index.items():
        if name.startswith("_") or name in SKIPPED_COMPONENTS or not _names_a_class(value):
            continue
        try:
            folder = safe_join(snapshot, name)
        except UnsafePath:
            return False
        if not folder.is_dir() or not any(folder.iterdir()):
            return False
    return True


def _is_complete_single_model(snapshot: Path) -> bool:
    try:
        config = json.loads((snapshot / MODEL_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(config, dict) or config.get("_class_name") not in SINGLE_MODEL_CLASSES:
        return False
    return any(snapshot.glob(f"{SINGLE_MODEL_WEIGHTS}*.safetensors"))


def _names_a_class(value: object) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value)


def hub_cache_dir() -> Path:
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return expand_path(explicit)
    home = os.environ.get("HF_HOME")
    if home:
        return expand_path(home) / "hub"
    return expand_path(constants.HF_HUB_CACHE)


def expand_path(path: str) -> Path:
    return Path(os.path.expandvars(os.path.expanduser(path)))


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
