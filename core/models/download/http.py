"""Talking to the hub: request headers, bounded retries, cancellable bodies, and plain-words errors.

Requests go through huggingface_hub's shared HTTP client, so its proxy settings, user agent and
offline switch apply. Every failure ends up as one of the errors in `hub_errors`.
"""

from __future__ import annotations

import errno
import queue
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TypeVar
from urllib.parse import quote, urlsplit

import httpx2
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status, parse_ratelimit_headers

from sfumato.core.models import hub_errors
from sfumato.core.models.download.settings import HubSettings
from sfumato.core.models.hub_errors import HubError

T = TypeVar("T")

TIMEOUT = httpx2.Timeout(connect=10.0, read=30.0, write=30.0, pool=30.0)
# How often to try again before reporting, per kind of trouble. Only failures with no bytes received
# in between count: a transfer that keeps making progress through a flaky line keeps going.
RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2
CONNECT_RETRIES = 2
TRANSFER_RETRIES = 4
LONGEST_WAIT = 60.0  # a Retry-After beyond this is reported instead of waited out
SERVER_ERRORS = (500, 502, 503, 504)
POLL_SECONDS = 0.1
MAX_ERROR_BODY = 64 * 1024  # an error answer's message; never more is read


class BodyEndedEarly(Exception):
    """The server closed a response before sending every byte of the file."""


class _Undecodable(Exception):
    """An answer whose bytes cannot be decoded."""


def request_headers(settings: HubSettings) -> dict[str, str]:
    headers = build_hf_headers(token=settings.token or False, library_name="sfumato")
    headers["Accept-Encoding"] = "identity"  # byte offsets must match the file for Range requests
    return headers


def file_url(settings: HubSettings, repo_id: str, commit: str, path: str) -> str:
    return f"{settings.endpoint}/{repo_id}/resolve/{commit}/{quote(path)}"


def sleep_unless_cancelled(seconds: float, cancel: threading.Event | None, repo_id: str) -> None:
    if cancel is None:
        time.sleep(seconds)
    elif cancel.wait(seconds):
        raise hub_errors.cancelled(repo_id)


class RetryBudget:
    """Decides, failure by failure, whether to wait and try again or to report the problem."""

    def __init__(
        self,
        repo_id: str,
        settings: HubSettings,
        *,
        cancel: threading.Event | None = None,
        revision: str = "",
    ) -> None:
        self.repo_id = repo_id
        self.settings = settings
        self.cancel = cancel
        self.revision = revision
        self._rate_limited = 0
        self._server_errors = 0
        self._connection_errors = 0

    def made_progress(self) -> None:
        self._rate_limited = self._server_errors = self._connection_errors = 0

    def run(self, call: Callable[[], T]) -> T:
        while True:
            try:
                return call()
            except Exception as error:
                self.wait_or_raise(error)

    def wait_or_raise(self, error: Exception) -> None:
        """Return after a pause if trying again makes sense, else raise the artist-facing error."""
        delay = self._delay_before_retry(error)
        if delay is None:
            raise self.translate(error) from error
        sleep_unless_cancelled(delay, self.cancel, self.repo_id)

    def _delay_before_retry(self, error: Exception) -> float | None:
        if isinstance(error, HubError | OfflineModeIsEnabled):
            return None
        if isinstance(error, HfHubHTTPError) and error.response is not None:
            status = error.response.status_code
            retry_after = retry_after_seconds(error.response)
            if status == 429:
                self._rate_limited += 1
                wait = retry_after if retry_after is not None else 2.0**self._rate_limited
                return wait if self._rate_limited <= RATE_LIMIT_RETRIES and wait <= LONGEST_WAIT else None
            if status in SERVER_ERRORS:
                self._server_errors += 1
                wait = retry_after if retry_after is not None else 0.5 * 2 ** (self._server_errors - 1)
                return wait if self._server_errors <= SERVER_ERROR_RETRIES and wait <= LONGEST_WAIT else None
            if status != 408:
                return None
        elif not isinstance(error, httpx2.TransportError | BodyEndedEarly):
            return None
        self._connection_errors += 1
        limit = CONNECT_RETRIES if isinstance(error, httpx2.ConnectError) else TRANSFER_RETRIES
        return 0.25 * 2 ** (self._connection_errors - 1) if self._connection_errors <= limit else None

    def translate(self, error: BaseException) -> HubError:
        repo_id, settings = self.repo_id, self.settings
        if isinstance(error, HubError):
            return error
        if isinstance(error, OfflineModeIsEnabled):
            return hub_errors.offline_mode(repo_id)
        if isinstance(error, GatedRepoError):
            return hub_errors.gated_model(
                repo_id, f"{settings.endpoint}/{repo_id}", token_sent=bool(settings.token)
            )
        if isinstance(error, RevisionNotFoundError):
            return hub_errors.repo_not_found(repo_id, self.revision or None)
        if isinstance(error, RepositoryNotFoundError):
            return hub_errors.repo_not_found(repo_id)
        if isinstance(error, RemoteEntryNotFoundError):
            return hub_errors.HubServerError(
                f"Hugging Face listed a file of “{repo_id}” but could not send it. Try again later.", 404
            )
        if isinstance(error, HfHubHTTPError) and error.response is not None:
            status = error.response.status_code
            if status in (401, 403):
                return hub_errors.unauthorized(repo_id, f"{settings.endpoint}/settings/tokens")
            if status == 404:
                return hub_errors.repo_not_found(repo_id)
            if status == 429:
                return hub_errors.rate_limited(repo_id, retry_after_seconds(error.response))
            return hub_errors.server_error(repo_id, status)
        if isinstance(error, httpx2.TransportError | BodyEndedEarly):
            return hub_errors.network_down(urlsplit(settings.endpoint).netloc or settings.endpoint)
        if isinstance(error, OSError):  # not the network: the disk the cache is on
            if error.errno == errno.ENOSPC:
                return hub_errors.disk_full(repo_id, str(settings.cache_dir))
            return hub_errors.cache_not_writable(repo_id, str(settings.cache_dir), error)
        return hub_errors.HubError(f"Downloading “{repo_id}” failed: {error}")


def retry_after_seconds(response: httpx2.Response) -> float | None:
    """The wait the server asks for: `Retry-After`, else the hub's `RateLimit` reset time."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        if value:
            return max(0.0, float(value))
    except ValueError:
        pass
    limit = parse_ratelimit_headers(response.headers)
    return float(limit.reset_in_seconds) if limit is not None and limit.remaining == 0 else None


def get_bounded(url: str, headers: dict[str, str], *, limit: int, what: str) -> bytes:
    """The body of a GET, refused once more than `limit` bytes of it have arrived (counted after
    any gzip decoding, as they stream, so a small compressed answer cannot grow without end)."""
    with get_session().stream(
        "GET", url, headers=headers, timeout=TIMEOUT, follow_redirects=True
    ) as response:
        if response.status_code >= 400:
            _raise_for_status(response)
        try:
            body = _read_decoded(response, limit)
        except _Undecodable as error:
            raise hub_errors.damaged_answer(what, str(error)) from error
    if body is None:
        raise hub_errors.answer_too_large(what, limit)
    return body


def _raise_for_status(response: httpx2.Response) -> None:
    """huggingface_hub's error for a failed response, from no more than the start of its body."""
    try:
        body = _read_decoded(response, MAX_ERROR_BODY, truncate=True) or b""
    except _Undecodable:
        body = b""
    headers = {
        name: value
        for name, value in response.headers.items()
        if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    }
    hf_raise_for_status(
        httpx2.Response(response.status_code, headers=headers, content=body, request=response.request)
    )


def _read_decoded(response: httpx2.Response, limit: int, *, truncate: bool = False) -> bytes | None:
    """Up to `limit` bytes of the decoded body; None when there is more (or the start when `truncate`)."""
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        decoder = None
    elif encoding in ("gzip", "x-gzip", "deflate"):
        decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or zlib header, whichever it has
    else:
        raise _Undecodable(f"sent in an encoding Sfumato does not read, {encoding}")
    body = bytearray()
    try:
        for chunk in response.iter_raw():
            pending = chunk
            while pending:
                if decoder is None:
                    piece, pending = pending, b""
                else:
                    piece = decoder.decompress(pending, limit + 1 - len(body))
                    pending = decoder.unconsumed_tail
                body += piece
                if len(body) > limit:
                    return bytes(body[:limit]) if truncate else None
    except zlib.error as error:
        raise _Undecodable(f"damaged in transit: {error}") from error
    return bytes(body)


class _Head:
    def __init__(self, response: httpx2.Response) -> None:
        self.status = response.status_code
        self.headers = response.headers


_END = object()


class BodyStream:
    """A streamed GET whose network reads happen on a helper thread.

    A read can block for as long as the server stays silent; the caller only ever waits on a queue,
    in short slices, so a cancel is honoured at once. The helper thread stops by itself at its next
    chunk or read timeout and never touches the caller's files.
    """

    def __init__(
        self,
        url: str,
        headers: dict[str, str],
        cancel: threading.Event,
        repo_id: str,
        *,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self._url = url
        self._on_idle = on_idle
        self._headers = headers
        self._cancel = cancel
        self._repo_id = repo_id
        self._items: queue.Queue[object] = queue.Queue(maxsize=32)
        self._stop = threading.Event()
        self.status = 0
        self.headers: httpx2.Headers = httpx2.Headers()

    def __enter__(self) -> BodyStream:
        threading.Thread(target=self._read, name="sfumato-download", daemon=True).start()
        try:
            head = self._next()
        except BaseException:
            self._stop.set()
            raise
        assert isinstance(head, _Head)
        self.status, self.headers = head.status, head.headers
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()

    def chunks(self) -> Iterator[bytes]:
        while (item := self._next()) is not _END:
            assert isinstance(item, bytes)
            yield item

    def _next(self) -> object:
        while True:
            if self._cancel.is_set():
                raise hub_errors.cancelled(self._repo_id)
            try:
                item = self._items.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if self._on_idle is not None:
                    self._on_idle()
                continue
            if isinstance(item, BaseException):
                raise item
            return item

    def _read(self) -> None:
        try:
            with get_session().stream(
                "GET", self._url, headers=self._headers, timeout=TIMEOUT, follow_redirects=True
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    hf_raise_for_status(response)
                self._put(_Head(response))
                for chunk in response.iter_bytes():
                    if self._stop.is_set() or not self._put(chunk):
                        return
            self._put(_END)
        except Exception as error:
            self._put(error)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._items.put(item, timeout=POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False
