"""Free disk space and write access, asked of the nearest folder that exists."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

GIB = 1024**3


def existing_parent(path: Path) -> Path:
    """`path` itself, or its nearest ancestor that exists (a folder not made yet is made there)."""
    path = path.expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(existing_parent(path)).free


def writable(path: Path) -> bool:
    """Whether a file can be created in `path` (or, if it does not exist yet, where it would be made)."""
    folder = existing_parent(path)
    if not folder.is_dir():
        return False
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".sfumato-write-check-"):
            return True
    except OSError:
        return False


def gib(size: int) -> str:
    return f"{size / GIB:.1f} GB"
