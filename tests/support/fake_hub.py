"""A stand-in for the Hugging Face hub on 127.0.0.1, for download tests without a network.

It speaks the part of the hub protocol huggingface_hub uses to list and fetch model files:

    GET  /api/models/<owner>/<name>[/revision/<rev>]?blobs=True   repo info with files, sizes, LFS sha256
    HEAD/GET /<owner>/<name>/resolve/<rev>/<path>                   regular files: the bytes (ETag = git oid);
                                                                    LFS files: 302 to /cdn-lfs/... with
                                                                    X-Linked-Etag / X-Linked-Size
    GET  /cdn-lfs/<owner>/<name>/<path>?commit=<commit>             LFS bytes (like a CDN: no auth)

with X-Repo-Commit, Range requests (206 + Content-Range, 416), the X-Error-Code / X-Error-Message
headers behind huggingface_hub's error classes (RepoNotFound, RevisionNotFound, EntryNotFound,
GatedRepo, invalid token), optional throttling, and one-shot faults injected per file. Every request
is logged. The repository added last is `main`; commits added earlier stay reachable by their id
(`hub.at`). Handler threads stop on their own: idle connections time out, throttled ones see `stop()`.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from huggingface_hub import constants

LFS_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".pt", ".pth", ".onnx", ".msgpack", ".h5")
API = "api"  # fault target for the repo info request


def catalog_pin(repo_id: str) -> str | None:
    """The commit Sfumato's catalog pins `repo_id` to: a catalog repository's `main` is there unless a
    test says otherwise, as on the real hub when the catalog was recorded."""
    from sfumato.core.models.catalog import find_entry

    entry = find_entry(repo_id)
    return entry.revision if entry is not None and entry.repo == repo_id else None


def git_oid(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class RepoFile:
    content: bytes
    lfs: bool
    listed_sha256: str | None = None  # what the listing claims; differs from the bytes when corrupted

    @property
    def sha256(self) -> str:
        return self.listed_sha256 or hashlib.sha256(self.content).hexdigest()


class FakeRepo:
    def __init__(
        self,
        repo_id: str,
        files: Mapping[str, bytes],
        *,
        gated: bool = False,
        allowed_tokens: Iterable[str] = (),
        listed_only: Iterable[str] = (),
        commit: str | None = None,
    ) -> None:
        self.repo_id = repo_id
        self.files = {path: RepoFile(content, path.endswith(LFS_SUFFIXES)) for path, content in files.items()}
        self.gated = gated
        self.allowed_tokens = set(allowed_tokens)
        self.listed_only = list(listed_only)  # names in the listing that are never served (hostile ones)
        digest = hashlib.sha1(repo_id.encode())
        for path in sorted(self.files):
            digest.update(path.encode() + self.files[path].content)
        self.commit = commit or catalog_pin(repo_id) or digest.hexdigest()

    @classmethod
    def from_folder(
        cls, repo_id: str, folder: Path, *, extra: Mapping[str, bytes] | None = None, **options: Any
    ) -> FakeRepo:
        files = {
            path.relative_to(folder).as_posix(): path.read_bytes()
            for path in folder.rglob("*")
            if path.is_file()
        }
        return cls(repo_id, {**files, **(extra or {})}, **options)

    def corrupt(self, path: str, offset: int = 1000) -> None:
        """Serve `path` with one byte flipped while the listing keeps the original checksum."""
        file = self.files[path]
        listed = file.sha256
        content = bytearray(file.content)
        content[offset] ^= 0xFF
        self.files[path] = RepoFile(bytes(content), file.lfs, listed_sha256=listed)

    def info(self) -> dict[str, object]:
        siblings: list[dict[str, object]] = []
        for path, file in sorted(self.files.items()):
            entry: dict[str, object] = {"rfilename": path, "size": len(file.content)}
            if file.lfs:
                pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{file.sha256}\n"
                pointer += f"size {len(file.content)}\n"
                entry["blobId"] = git_oid(pointer.encode())
                entry["lfs"] = {"size": len(file.content), "sha256": file.sha256, "pointerSize": len(pointer)}
            else:
                entry["blobId"] = git_oid(file.content)
            siblings.append(entry)
        for name in self.listed_only:
            siblings.append({"rfilename": name, "size": 2, "blobId": git_oid(b"{}")})
        return {
            "id": self.repo_id,
            "modelId": self.repo_id,
            "sha": self.commit,
            "private": False,
            "gated": "manual" if self.gated else False,
            "disabled": False,
            "library_name": "diffusers",
            "tags": ["diffusers"],
            "siblings": siblings,
        }


@dataclass(frozen=True)
class Reply:
    """Answer with this status (and headers/body) instead of the file."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class DropAfter:
    """Promise the whole body, send `count` bytes of it, then cut the connection."""

    count: int


@dataclass(frozen=True)
class ShortBody:
    """A well-formed response that holds only the first `count` bytes asked for."""

    count: int


@dataclass(frozen=True)
class StallAfter:
    """Send `count` bytes, then go silent for `seconds` (keeping the connection open), then the rest."""

    count: int
    seconds: float


@dataclass(frozen=True)
class IgnoreRange:
    """Answer a Range request with the whole file and a 200, as some proxies do."""


Fault = Reply | DropAfter | ShortBody | StallAfter | IgnoreRange


@dataclass
class LoggedRequest:
    method: str
    path: str
    target: str | None  # the repo file (or API) the request was about
    range: str | None
    authorization: str | None
    status: int = 0
    length: int | None = None  # Content-Length sent
    time: float = field(default_factory=time.monotonic)


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}  # each repository's `main`
        self.commits: dict[tuple[str, str], FakeRepo] = {}  # every commit added, main or older
        self.tokens: set[str] = set()  # tokens the hub accepts at all
        self.bytes_per_second: float | None = None
        self.log: list[LoggedRequest] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, repo: FakeRepo) -> FakeRepo:
        """Serve `repo` as its repository's `main`; a commit added before stays reachable by its id."""
        self.repos[repo.repo_id] = repo
        self.commits[repo.repo_id, repo.commit] = repo
        return repo

    def at(self, repo_id: str, revision: str) -> FakeRepo | None:
        main = self.repos[repo_id]
        if revision in ("main", main.commit):
            return main
        return self.commits.get((repo_id, revision))

    def inject(self, target: str, *faults: Fault) -> None:
        """Faults for the next requests serving `target` (a repo file path, or API), one each."""
        with self._lock:
            self._faults.setdefault(target, deque()).extend(faults)

    def content_requests(self, path: str) -> list[LoggedRequest]:
        """Requests that were answered with (part of) the bytes of `path`."""
        with self._lock:
            return [r for r in self.log if r.target == path and r.status in (200, 206) and r.method == "GET"]

    def start(self) -> FakeHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _next_fault(self, target: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(target)
            return queue.popleft() if queue else None

    def _record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.log.append(entry)


_API = re.compile(r"/api/models/(?P<repo>[^/]+/[^/]+?)(?:/revision/(?P<rev>[^/]+))?")
_RESOLVE = re.compile(r"/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)")
_CDN = re.compile(r"/cdn-lfs/(?P<repo>[^/]+/[^/]+?)/(?P<path>.+)")
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
_PIECE = 16 * 1024


def _handler_for(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(_HubHandler):
        pass

    Handler.hub = hub
    return Handler


class _HubHandler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"
    timeout = 5  # idle keep-alive connections end by themselves

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._route(body=False)

    def do_GET(self) -> None:
        self._route(body=True)

    def _route(self, *, body: bool) -> None:
        path = urlsplit(self.path).path
        self._entry = LoggedRequest(
            self.command, path, None, self.headers.get("Range"), self.headers.get("Authorization")
        )
        self.hub._record(self._entry)
        token = self._token()
        if token is not None and token not in self.hub.tokens:
            return self._error(401, None, "Invalid credentials in Authorization header")
        if match := _API.fullmatch(path):
            return self._api(match["repo"], unquote(match["rev"] or "main"))
        if match := _RESOLVE.fullmatch(path):
            return self._resolve(match["repo"], unquote(match["rev"]), unquote(match["path"]), body=body)
        if match := _CDN.fullmatch(path):
            commit = parse_qs(urlsplit(self.path).query).get("commit", ["main"])[0]
            repo = self.hub.at(match["repo"], commit) if match["repo"] in self.hub.repos else None
            file_path = unquote(match["path"])
            if repo is None or file_path not in repo.files:
                return self._error(404, None, "Not found")
            return self._content(repo, file_path, body=body)
        return self._error(404, None, "Not found")

    def _token(self) -> str | None:
        header = self.headers.get("Authorization")
        return header.removeprefix("Bearer ").strip() if header else None

    def _api(self, repo_id: str, revision: str) -> None:
        self._entry.target = API
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            return self._error(404, "RepoNotFound", "Repository not found")
        repo = self.hub.at(repo_id, revision)
        if repo is None:
            return self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        if (fault := self.hub._next_fault(API)) is not None:
            return self._fault_reply(fault)
        self._send(200, json.dumps(repo.info()).encode(), {"Content-Type": "application/json"})

    def _resolve(self, repo_id: str, revision: str, file_path: str, *, body: bool) -> None:
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            return self._error(404, "RepoNotFound", "Repository not found")
        repo = self.hub.at(repo_id, revision)
        if repo is None:
            return self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        self._entry.target = file_path
        if repo.gated:
            token = self._token()
            if token is None:
                message = (
                    f"Access to model {repo_id} is restricted. You must have access to it and be "
                    "authenticated to access it. Please log in."
                )
                return self._error(401, "GatedRepo", message)
            if token not in repo.allowed_tokens:
                message = (
                    f"Access to model {repo_id} is restricted and you are not in the authorized list. "
                    f"Visit {self.hub.url}/{repo_id} to ask for access."
                )
                return self._error(403, "GatedRepo", message)
        file = repo.files.get(file_path)
        if file is None:
            return self._error(404, "EntryNotFound", f"{file_path} does not exist on {revision}")
        if file.lfs:
            location = f"{self.hub.url}/cdn-lfs/{repo_id}/{quote(file_path)}?commit={repo.commit}"
            headers = {
                "Location": location,
                "X-Repo-Commit": repo.commit,
                "X-Linked-Etag": f'"{file.sha256}"',
                "X-Linked-Size": str(len(file.content)),
                "ETag": f'"{git_oid(file.content)}"',
            }
            return self._send(302, b"", headers)
        return self._content(repo, file_path, body=body)

    def _content(self, repo: FakeRepo, file_path: str, *, body: bool) -> None:
        self._entry.target = file_path
        file = repo.files[file_path]
        data = file.content
        headers = {
            "X-Repo-Commit": repo.commit,
            "ETag": f'"{file.sha256 if file.lfs else git_oid(data)}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        fault = self.hub._next_fault(file_path) if body else None
        if isinstance(fault, Reply):
            return self._fault_reply(fault)
        start, status = 0, 200
        requested = None if isinstance(fault, IgnoreRange) else self.headers.get("Range")
        if requested and (match := _RANGE.fullmatch(requested.strip())):
            start = int(match[1])
            if start >= len(data):
                return self._send(416, b"", {**headers, "Content-Range": f"bytes */{len(data)}"})
            end = min(int(match[2]) + 1 if match[2] else len(data), len(data))
            data, status = data[start:end], 206
        if isinstance(fault, ShortBody):
            data = data[: fault.count]
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{start + len(data) - 1}/{len(file.content)}"
        if not body:
            return self._send(status, b"", {**headers, "Content-Length": str(len(data))}, body=False)
        cut_after = fault.count if isinstance(fault, DropAfter) else None
        stall = (fault.count, fault.seconds) if isinstance(fault, StallAfter) else None
        self._send(status, data, headers, cut_after=cut_after, stall=stall)

    def _fault_reply(self, fault: Fault) -> None:
        assert isinstance(fault, Reply)
        self._send(fault.status, fault.body, dict(fault.headers))

    def _error(self, status: int, code: str | None, message: str) -> None:
        headers = {"Content-Type": "application/json", "X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, json.dumps({"error": message}).encode(), headers)

    def _send(
        self,
        status: int,
        data: bytes,
        headers: Mapping[str, str],
        *,
        body: bool = True,
        cut_after: int | None = None,
        stall: tuple[int, float] | None = None,
    ) -> None:
        self._entry.status = status
        self.send_response(status)
        headers = dict(headers)
        headers.setdefault("Content-Length", str(len(data)))
        self._entry.length = int(headers["Content-Length"])
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not body:
            return
        to_send = data if cut_after is None else data[:cut_after]
        try:
            if stall is not None:
                self._write_paced(to_send[: stall[0]])
                self.wfile.flush()
                self.hub._stopping.wait(stall[1])
                to_send = to_send[stall[0] :]
            self._write_paced(to_send)
        except OSError:
            self.close_connection = True
            return
        if cut_after is not None and cut_after < len(data):
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

    def _write_paced(self, data: bytes) -> None:
        rate = self.hub.bytes_per_second
        if rate is None:
            self.wfile.write(data)
            return
        for offset in range(0, len(data), _PIECE):
            if self.hub._stopping.is_set():
                raise ConnectionAbortedError("hub stopped")
            self.wfile.write(data[offset : offset + _PIECE])
            self.wfile.flush()
            time.sleep(_PIECE / rate)


def point_client_at(hub: FakeHub, home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point huggingface_hub, through the environment as a user would, at `hub` and a new cache under
    `home`; returns the cache folder."""
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_TOKEN_PATH", raising=False)
    # huggingface_hub read these when it was imported; its HTTP client checks the offline switch.
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    return home / "hub"
