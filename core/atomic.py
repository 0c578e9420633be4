"""Replace a file all at once: a crash, a full disk or an error mid-write leaves the previous file intact.

Every file Sfumato saves (PNG exports, documents, autosaves, zoom manifests, settings) goes through
`write_atomically`, so each one gets the same durability and the same permissions: a new file gets
what the user's umask allows, a replaced one keeps the mode it had.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from sfumato.core.api import BadInput

PARTIAL_SUFFIX = ".partial"
_NEW_FILE_MODE = 0o666  # narrowed by the umask, as for any file a program creates


def write_atomically(path: Path, content: bytes | Callable[[BinaryIO], None]) -> None:
    """Write `content` (bytes, or a function that writes to a binary stream) to a temporary file next
    to `path`, flush it to disk, then rename it over `path`.

    Errors from the disk (full, read-only, no permission) become `BadInput` with a plain message."""
    path = Path(path)
    folder = path.parent
    temporary = folder / f".{path.name}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(temporary, flags, _NEW_FILE_MODE)
    except OSError as error:
        raise _save_failed(path, error) from error
    try:
        with os.fdopen(descriptor, "wb") as stream:
            if isinstance(content, bytes | bytearray | memoryview):
                stream.write(content)
            else:
                content(stream)
            stream.flush()
            os.fsync(stream.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise _save_failed(path, error) from error
        raise
    _sync_folder(folder)


def _save_failed(path: Path, error: OSError) -> BadInput:
    reason = error.strerror or str(error)
    return BadInput(
        f'Could not save "{path}": {reason}. Check that the folder exists, that you may write to it '
        "and that the disk has free space. The previous version of the file, if any, is untouched."
    )


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); folders cannot be opened this way on Windows."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
