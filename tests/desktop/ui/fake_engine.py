"""A scriptable stand-in for the engine, at the UI's edge: it takes jobs like the engine does and
emits only the events a test scripts, so the UI logic can be driven step by step."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import AsyncIterator

import numpy as np

from sfumato.core.api import (
    Cancelled,
    EngineInfo,
    ErrorKind,
    Event,
    Failed,
    Finished,
    ImageReady,
    Job,
    Queued,
    Recipe,
    Started,
    Step,
    job_mode,
)
from sfumato.core.job_runner import Subscribers

READY = EngineInfo("cpu", "Test CPU", "float32", {"sfumato": "test"})


class FakeEngine:
    def __init__(self) -> None:
        self.info: EngineInfo | None = READY
        self.worker_pid: int | None = None
        self.jobs: dict[str, Job] = {}
        self.cancel_requests: list[str] = []
        self._ids = (f"fake-{n}" for n in itertools.count(1))
        self._waiting: deque[str] = deque()
        self._running: str | None = None
        self._made: list[tuple[np.ndarray, Recipe]] = []  # the running job's images so far
        self._subscribers = Subscribers()
        self.closed = False

    @property
    def running(self) -> str | None:
        return self._running

    def waiting(self) -> list[str]:
        return list(self._waiting)

    def submit(self, job: Job) -> str:
        job_id = next(self._ids)
        self.jobs[job_id] = job
        self._waiting.append(job_id)
        self.emit(Queued(job_id, len(self._waiting) - (0 if self._running else 1)))
        if self._running is None:
            self._start_next()
        return job_id

    def cancel(self, job_id: str) -> None:
        self.cancel_requests.append(job_id)
        if job_id in self._waiting:
            self._waiting.remove(job_id)
            self.emit(Cancelled(job_id))
        elif job_id == self._running:
            self.end(Cancelled(job_id))

    def all_events(self) -> AsyncIterator[Event]:
        return self._subscribers.events()

    async def close(self) -> None:
        self.closed = True

    # ---- scripting -----------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        self._subscribers.put(event)

    def _start_next(self) -> None:
        self._made = []
        if self._waiting:
            self._running = self._waiting.popleft()
            self.emit(Started(self._running))

    def step(
        self, step: int, total: int, preview: np.ndarray | None = None, image: int = 0, images: int = 1
    ) -> None:
        assert self._running is not None, "no job is running"
        self.emit(Step(self._running, step, total, image, images, preview))

    def end(self, event: Finished | Failed | Cancelled) -> None:
        """End the running job with `event` and start the next waiting one."""
        self._running = None
        self.emit(event)
        self._start_next()

    def image_ready(self, colour: tuple[int, int, int] = (200, 100, 50)) -> np.ndarray:
        """Make the running job's next image, flat `colour` at the job's size, and send its ImageReady."""
        job_id = self._running
        assert job_id is not None, "no job is running"
        job, index = self.jobs[job_id], len(self._made)
        image = np.full((job.height, job.width, 3), colour, dtype=np.uint8)
        recipe = Recipe(
            prompt=job.prompt, seed=1000 + index, width=job.width, height=job.height, mode=job_mode(job)
        )
        self._made.append((image, recipe))
        self.emit(ImageReady(job_id, index, image, recipe))
        return image

    def finish(self, colours: list[tuple[int, int, int]] | None = None) -> tuple[np.ndarray, ...]:
        """Make the running job's remaining images, flat `colours` (one per image not yet made), each
        with its ImageReady, then finish it with all of its images, as the engine does."""
        job_id = self._running
        assert job_id is not None, "no job is running"
        for colour in colours or [(200, 100, 50)] * (self.jobs[job_id].batch - len(self._made)):
            self.image_ready(colour)
        images, recipes = zip(*self._made, strict=True)
        self.end(Finished(job_id, images, recipes))
        return images

    def fail(self, kind: ErrorKind, message: str) -> None:
        assert self._running is not None, "no job is running"
        self.end(Failed(self._running, kind, message))

    def crash(self) -> None:
        """What the engine does when its process dies: fail the running job, restart, come back."""
        assert self._running is not None, "no job is running"
        self.info = None
        self.fail(ErrorKind.ENGINE_CRASHED, "The engine stopped unexpectedly while working on this job.")

    def come_back(self) -> None:
        self.info = READY
