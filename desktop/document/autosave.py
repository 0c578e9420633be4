"""Autosave: keep a recent copy of each open document in the app's data folder, so work survives
a crash. Files are written atomically, so an autosave interrupted mid-write never replaces a
good one."""

from __future__ import annotations

import contextlib
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sfumato.core.api import BadInput
from sfumato.core.atomic import PARTIAL_SUFFIX
from sfumato.desktop.document.document import Document
from sfumato.desktop.document.ora import open_ora, parse_stack_xml, save_ora
from sfumato.desktop.document.recipe_xml import qualified

PREFIX = "autosave-"
SUFFIX = ".ora"
_PEEK_LIMIT = 1 << 20


@dataclass(frozen=True)
class Recoverable:
    """An autosave left behind, for example by a crash."""

    path: Path
    title: str
    saved_at: datetime

    def open(self) -> Document:
        return open_ora(self.path)


def autosave_path(document: Document, folder: Path) -> Path:
    return folder / f"{PREFIX}{document.id}{SUFFIX}"


def write_autosave(document: Document, folder: Path) -> Path:
    """Write (or refresh) this document's autosave in `folder`; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = autosave_path(document, folder)
    # Speed matters more than size here: autosaves run while the artist works.
    save_ora(document, path, compress_level=1)
    return path


def find_recoverable(folder: Path) -> list[Recoverable]:
    """Autosaves in `folder`, newest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"{PREFIX}*{SUFFIX}"):
        if not path.is_file():
            continue
        saved_at = datetime.fromtimestamp(path.stat().st_mtime)
        found.append(Recoverable(path=path, title=_peek_title(path) or "Untitled", saved_at=saved_at))
    return sorted(found, key=lambda item: item.saved_at, reverse=True)


def discard(folder: Path, recoverable: Recoverable | None = None) -> None:
    """Delete one autosave, or every autosave (and any half-written one) in `folder`."""
    if recoverable is not None:
        recoverable.path.unlink(missing_ok=True)
        return
    if not folder.is_dir():
        return
    for pattern in (f"{PREFIX}*{SUFFIX}", f".{PREFIX}*{PARTIAL_SUFFIX}"):
        for path in folder.glob(pattern):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _peek_title(path: Path) -> str | None:
    """The document title stored in the autosave, read without decoding any pixels."""
    with contextlib.suppress(OSError, zipfile.BadZipFile, KeyError, BadInput):
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("stack.xml")
            if info.file_size > _PEEK_LIMIT:
                return None
            data = archive.read(info)
        return parse_stack_xml(data, path.name).get(qualified("title"))
    return None
