"""Progress of a model download: bytes per file and overall, speed and time left."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DownloadProgress:
    """One progress report. `done`/`total` cover the whole model; bytes already on disk count as done.

    `bytes_per_second` is measured over the last few seconds of this session's transfer; `eta_seconds`
    is None until there is a speed to estimate from.
    """

    repo_id: str
    file: str
    file_done: int
    file_total: int
    done: int
    total: int
    files_done: int
    files_total: int
    bytes_per_second: float
    eta_seconds: float | None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


class ProgressMeter:
    """Turns "this file now has N bytes" into `DownloadProgress` reports, a few per second at most."""

    WINDOW_SECONDS = 3.0

    def __init__(
        self,
        repo_id: str,
        *,
        total: int,
        files_total: int,
        sink: Callable[[DownloadProgress], None],
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.1,
    ) -> None:
        self._repo_id = repo_id
        self._total = total
        self._files_total = files_total
        self._sink = sink
        self._clock = clock
        self._interval = interval
        self._finished_bytes = 0
        self._files_done = 0
        self._file = ""
        self._file_done = 0
        self._file_total = 0
        self._received = 0
        self._samples: deque[tuple[float, int]] = deque()
        self._last_report = float("-inf")

    def already_there(self, size: int) -> None:
        """A file that an earlier download finished."""
        self._finished_bytes += size
        self._files_done += 1

    def start_file(self, path: str, size: int) -> None:
        self._file, self._file_total, self._file_done = path, size, 0
        self._report(force=True)

    def file_bytes(self, done: int, received: int) -> None:
        """The current file now holds `done` bytes, `received` of them just arrived over the network."""
        self._file_done = done
        if received:
            self._received += received
            self._samples.append((self._clock(), self._received))
        self._report()

    def finish_file(self) -> None:
        self._finished_bytes += self._file_total
        self._files_done += 1
        self._file_done = self._file_total
        self._report(force=True, file_finished=True)

    def finish(self) -> None:
        self._report(force=True, file_finished=True)

    def _report(self, *, force: bool = False, file_finished: bool = False) -> None:
        now = self._clock()
        if not force and now - self._last_report < self._interval:
            return
        self._last_report = now
        done = self._finished_bytes + (0 if file_finished else self._file_done)
        rate = self._rate(now)
        remaining = max(self._total - done, 0)
        self._sink(
            DownloadProgress(
                repo_id=self._repo_id,
                file=self._file,
                file_done=self._file_done,
                file_total=self._file_total,
                done=done,
                total=self._total,
                files_done=self._files_done,
                files_total=self._files_total,
                bytes_per_second=rate,
                eta_seconds=remaining / rate if rate > 0 else (0.0 if remaining == 0 else None),
            )
        )

    def _rate(self, now: float) -> float:
        while len(self._samples) > 2 and now - self._samples[1][0] > self.WINDOW_SECONDS:
            self._samples.popleft()
        if len(self._samples) < 2:
            return 0.0
        (first_time, first_bytes), (last_time, last_bytes) = self._samples[0], self._samples[-1]
        span = max(now, last_time) - first_time
        return (last_bytes - first_bytes) / span if span > 0 else 0.0
