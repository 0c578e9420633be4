"""Checking model files against the checksums recorded when they arrived.

In the Hugging Face cache every file is stored under its checksum: the SHA-256 of the contents for
large (LFS) files, git's object id for the small ones. Imports record their SHA-256 in the sidecar.
Every byte is read again here; nothing comes from a cache of earlier results.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sfumato.core.api import SfumatoError
from sfumato.core.models.hub_cache import GIT_OID, SHA256, is_complete_snapshot
from sfumato.core.models.library import ImportedModel
from sfumato.core.models.safetensors_header import read_header

_CHUNK = 8 * 1024 * 1024

OnFile = Callable[[str], None]


@dataclass(frozen=True)
class FileProblem:
    path: str
    problem: str


@dataclass(frozen=True)
class VerifyReport:
    model_id: str
    checked: int
    problems: tuple[FileProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_snapshots(model_id: str, repo_folder: Path, on_file: OnFile) -> VerifyReport:
    """Check every file of every downloaded version of a cache repository against its blob name."""
    checked, problems = 0, []
    snapshots = sorted(path for path in (repo_folder / "snapshots").glob("*") if path.is_dir())
    for snapshot in snapshots:
        label = snapshot.name[:10] + "/" if len(snapshots) > 1 else ""
        if not is_complete_snapshot(snapshot):
            problems.append(FileProblem(label or ".", "the download did not finish; download it again"))
        for pointer in sorted(path for path in snapshot.rglob("*") if not path.is_dir()):
            name = label + pointer.relative_to(snapshot).as_posix()
            on_file(name)
            checked += 1
            problem = _check_pointer(pointer)
            if problem:
                problems.append(FileProblem(name, problem))
    if not snapshots:
        problems.append(FileProblem(".", "nothing of it was downloaded completely; download it again"))
    return VerifyReport(model_id, checked, tuple(problems))


def verify_import(record: ImportedModel, on_file: OnFile) -> VerifyReport:
    on_file(record.file.name)
    if not record.file.is_file():
        problem = FileProblem(record.file.name, f"the file is missing; import {record.source_path} again")
        return VerifyReport(record.id, 1, (problem,))
    actual = sha256_of(record.file)
    if actual != record.sha256:
        return VerifyReport(record.id, 1, (FileProblem(record.file.name, _changed(record.sha256, actual)),))
    return VerifyReport(record.id, 1, ())


def verify_headers(model_id: str, folder: Path, on_file: OnFile) -> VerifyReport:
    """For models with no recorded checksums: every weights file's structure must be intact."""
    checked, problems = 0, []
    for path in sorted(folder.rglob("*.safetensors")):
        name = path.relative_to(folder).as_posix()
        on_file(name)
        checked += 1
        try:
            read_header(path)
        except SfumatoError as error:
            problems.append(FileProblem(name, error.message))
    return VerifyReport(model_id, checked, tuple(problems))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def git_oid_of(path: Path) -> str:
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode(), usedforsecurity=False)
    with path.open("rb") as stream:
        while block := stream.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _check_pointer(pointer: Path) -> str | None:
    if not pointer.is_symlink():
        return None  # a copy (where links are not allowed): its checksum is not recorded
    blob_name = os.path.basename(os.readlink(pointer))
    if not pointer.exists():
        return "the file is missing from the cache; download the model again"
    try:
        if SHA256.fullmatch(blob_name):
            actual = sha256_of(pointer)
        elif GIT_OID.fullmatch(blob_name):
            actual = git_oid_of(pointer)
        else:
            return None
    except OSError as error:
        return f"the file could not be read ({error.strerror or error})"
    return None if actual == blob_name else _changed(blob_name, actual)


def _changed(expected: str, actual: str) -> str:
    return (
        f"the contents changed since it was saved (checksum {actual[:12]}…, expected {expected[:12]}…); "
        "remove the model and get it again"
    )
