"""The Hugging Face cache layout, written the same way huggingface_hub writes it.

    <cache>/models--owner--name/
        blobs/<sha256 or git oid>           file contents (plus `<blob>.incomplete` while downloading)
        snapshots/<commit>/<repo path>      relative symlinks into blobs/ (copies where links fail)
        refs/<revision>                     the commit a branch or tag pointed to when downloaded
    <cache>/.locks/models--owner--name/<blob>.lock

so diffusers, transformers and the `hf` command see an ordinary cache. Every path built from a name
the server sent goes through `safe_join`, which refuses anything that would leave its folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import uuid
from pathlib import Path

from huggingface_hub.file_download import are_symlinks_supported, repo_folder_name

from sfumato.core.api import ModelNotFound
from sfumato.core.models.download_settings import hub_cache_dir

COMMIT = re.compile(r"[0-9a-f]{40}")
GIT_OID = re.compile(r"[0-9a-f]{40}")
SHA256 = re.compile(r"[0-9a-f]{64}")
_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:")
MODEL_INDEX = "model_index.json"
# A repository holding one diffusers model rather than a pipeline: only these classes are downloaded.
MODEL_CONFIG = "config.json"
SINGLE_MODEL_CLASSES = frozenset({"AutoencoderTiny"})
SINGLE_MODEL_WEIGHTS = "diffusion_pytorch_model"
# Parts of a pipeline that a download leaves out on purpose (see download_selection).
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
