"""Fetching one file into `blobs/<name>.incomplete`, continuing from what is already there.

The partial file survives a crash, a killed process or a cancel; the next attempt asks the server
only for the missing bytes (an HTTP Range request). The contents are checked against the hub's
checksum (sha256 for LFS files, the git object id for the others) before the caller may publish it.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

from huggingface_hub.errors import HfHubHTTPError

from sfumato.core.models import hub_errors
from sfumato.core.models.download.http import BodyEndedEarly, BodyStream, RetryBudget

READ_CHUNK = 4 * 1024 * 1024
_CONTENT_RANGE_START = re.compile(r"bytes (\d+)-")


class ExpectedFile(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str | None: ...
    @property
    def git_oid(self) -> str | None: ...


class _Checksum:
    """sha256 of the contents for LFS files; for the others git's id, a sha1 over a small header."""

    def __init__(self, file: ExpectedFile) -> None:
        self._file = file
        self.reset()

    def reset(self) -> None:
        if self._file.sha256:
            self._hash = hashlib.sha256()
        else:
            self._hash = hashlib.sha1(f"blob {self._file.size}\0".encode(), usedforsecurity=False)

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def matches(self) -> bool:
        return self._hash.hexdigest() == (self._file.sha256 or self._file.git_oid)


def fetch_file(
    file: ExpectedFile,
    url: str,
    partial: Path,
    *,
    headers: dict[str, str],
    budget: RetryBudget,
    cancel: threading.Event,
    on_bytes: Callable[[int, int], None],
) -> None:
    """Complete `partial` with the file's bytes and check them; a damaged result is deleted."""
    repo_id = budget.repo_id
    checksum = _Checksum(file)
    with open(partial, "ab") as out:
        done = _take_over(partial, out, file.size, checksum, cancel, repo_id)
        on_bytes(done, 0)
        while done < file.size:
            if cancel.is_set():
                raise hub_errors.cancelled(repo_id)
            try:
                done = _fetch_rest(file, url, out, done, headers, checksum, budget, cancel, on_bytes)
            except hub_errors.ChecksumMismatch:
                out.close()
                partial.unlink(missing_ok=True)
                raise
            except HfHubHTTPError as error:
                if not (done and error.response is not None and error.response.status_code == 416):
                    budget.wait_or_raise(error)
                else:  # the server has fewer bytes than we already hold: the partial file is no use
                    _start_over(out, checksum)
                done = out.tell()
            except Exception as error:
                budget.wait_or_raise(error)
                done = out.tell()
    if not checksum.matches():
        partial.unlink(missing_ok=True)
        raise hub_errors.checksum_mismatch(repo_id, file.path)


def _take_over(
    partial: Path, out: BinaryIO, size: int, checksum: _Checksum, cancel: threading.Event, repo_id: str
) -> int:
    """Feed the bytes a previous attempt left to the checksum; returns how many there are."""
    if os.fstat(out.fileno()).st_size > size:
        _start_over(out, checksum)
        return 0
    done = 0
    with open(partial, "rb") as previous:
        while chunk := previous.read(READ_CHUNK):
            if cancel.is_set():
                raise hub_errors.cancelled(repo_id)
            checksum.update(chunk)
            done += len(chunk)
    return done


def _fetch_rest(
    file: ExpectedFile,
    url: str,
    out: BinaryIO,
    done: int,
    headers: dict[str, str],
    checksum: _Checksum,
    budget: RetryBudget,
    cancel: threading.Event,
    on_bytes: Callable[[int, int], None],
) -> int:
    request_headers = {**headers, "Range": f"bytes={done}-"} if done else headers

    def keep_reporting() -> None:
        # While the server is silent the display keeps updating, with a falling speed.
        on_bytes(out.tell(), 0)

    with BodyStream(url, request_headers, cancel, budget.repo_id, on_idle=keep_reporting) as body:
        if done and _range_start(body) != done:
            # The server sent the file from another offset (usually all of it): start over.
            _start_over(out, checksum)
            on_bytes(0, 0)
            if body.status != 200:
                return 0
            done = 0
        for chunk in body.chunks():
            if done + len(chunk) > file.size:
                raise hub_errors.checksum_mismatch(budget.repo_id, file.path)
            out.write(chunk)
            checksum.update(chunk)
            done += len(chunk)
            on_bytes(done, len(chunk))
            budget.made_progress()
    out.flush()
    if done < file.size:
        raise BodyEndedEarly(file.path)
    return done


def _start_over(out: BinaryIO, checksum: _Checksum) -> None:
    out.seek(0)
    out.truncate(0)
    checksum.reset()


def _range_start(body: BodyStream) -> int:
    if body.status != 206:
        return 0
    match = _CONTENT_RANGE_START.match(body.headers.get("Content-Range", ""))
    return int(match[1]) if match else -1
