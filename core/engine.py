"""The engine's async API: submit jobs, stream their events, cancel them.

A job's own event stream is kept only when its submitter asks to listen (`submit(job, listen=True)`),
and only until that listener has read the job's last event: a front end that follows every job through
`all_events()` leaves nothing behind, however many previews its jobs send.

Jobs wait in a queue here, in the caller's process, and go to the serving loop one at a time. If the
engine process dies, the running job fails with ENGINE_CRASHED, a fresh process starts, and the queue
carries on.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from sfumato.core.api import (
    TERMINAL_EVENTS,
    BadInput,
    Cancelled,
    ErrorKind,
    Event,
    Failed,
    Finished,
    Job,
    Queued,
    SfumatoError,
)
from sfumato.core.engine_backends import Backend, OnExit, OnMessage, ProcessBackend, ThreadBackend
from sfumato.core.engine_settings import EngineInfo, EngineSettings
from sfumato.core.job_runner import ListenedJobs
from sfumato.core.protocol import Cancel, Submit

log = logging.getLogger(__name__)

BackendFactory = Callable[[EngineSettings, OnMessage, OnExit], Backend]

START_TIMEOUT = 300.0
MAX_RESTARTS_WITHOUT_PROGRESS = 3

CRASH_MESSAGE = (
    "The engine stopped unexpectedly{code} while working on this job. It has been restarted and "
    "nothing in your document was changed; you can run the job again."
)


class Engine:
    def __init__(
        self,
        settings: EngineSettings,
        loop: asyncio.AbstractEventLoop,
        backend: BackendFactory | None = None,
    ) -> None:
        self.settings = settings
        self._make_backend: BackendFactory = backend or (
            ThreadBackend if settings.in_process else ProcessBackend
        )
        self.info: EngineInfo | None = None
        self._loop = loop
        self._ids = (f"job-{n}" for n in itertools.count(1))
        self._waiting: deque[tuple[str, Job]] = deque()
        self._running: str | None = None
        self._listened = ListenedJobs()
        self._subscribers: list[asyncio.Queue[Event]] = []
        self._ready: asyncio.Future[EngineInfo] = loop.create_future()
        self._backend: Backend | None = None
        self._closing = False
        self._failed_starts = 0

    # ---- lifecycle -----------------------------------------------------------------------------

    @classmethod
    async def start(
        cls, settings: EngineSettings | None = None, *, backend: BackendFactory | None = None
    ) -> Engine:
        """Start the engine and wait until it has chosen its device. `backend`: where its serving loop
        runs, when not in the usual process or thread (`settings.in_process`)."""
        engine = cls(settings or EngineSettings(), asyncio.get_running_loop(), backend)
        engine._launch()
        engine.info = await asyncio.wait_for(asyncio.shield(engine._ready), START_TIMEOUT)
        return engine

    def _launch(self) -> None:
        generation = object()
        self._generation = generation

        def on_message(message: Any) -> None:
            self._loop.call_soon_threadsafe(self._on_message, generation, message)

        def on_exit(code: int | None) -> None:
            if not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._on_exit, generation, code)

        self._backend = self._make_backend(self.settings, on_message, on_exit)

    async def close(self) -> None:
        self._closing = True
        for job_id, _job in list(self._waiting):
            self._emit(Cancelled(job_id))
        self._waiting.clear()
        if self._backend is not None:
            backend, self._backend = self._backend, None
            await asyncio.to_thread(backend.close, 10.0)

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    @property
    def worker_pid(self) -> int | None:
        """The engine process's id (None in-process)."""
        return self._backend.pid if self._backend else None

    # ---- jobs ----------------------------------------------------------------------------------

    def submit(self, job: Job, *, listen: bool = False) -> str:
        """Queue `job` and return its id. With `listen`, its events wait for `events(job_id)`, from the
        first (Queued) on; without, only `all_events()` subscribers hear them."""
        if self._closing:
            raise SfumatoError("The engine is shutting down.")
        job_id = next(self._ids)
        if listen:
            self._listened.listen(job_id)
        self._waiting.append((job_id, job))
        self._emit(Queued(job_id, len(self._waiting) - (0 if self._running else 1)))
        self._dispatch()
        return job_id

    def cancel(self, job_id: str) -> None:
        """Cancel a job: a waiting one leaves the queue, a running one stops within one step."""
        for index, (waiting_id, _job) in enumerate(self._waiting):
            if waiting_id == job_id:
                del self._waiting[index]
                self._emit(Cancelled(job_id))
                return
        if job_id == self._running and self._backend is not None:
            self._backend.send(Cancel(job_id))

    def waiting(self) -> list[str]:
        return [job_id for job_id, _job in self._waiting]

    @property
    def running(self) -> str | None:
        return self._running

    def events(self, job_id: str) -> AsyncIterator[Event]:
        """The events of a job submitted with `listen=True`, ending with its Finished, Cancelled or
        Failed. Stopping early drops the rest."""
        return self._listened.events(job_id)

    async def all_events(self) -> AsyncIterator[Event]:
        """Every event of every job, in order, for as long as the caller listens."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._subscribers.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.remove(queue)

    async def run(self, job: Job) -> Finished:
        """Submit `job` and wait for its images; failures and cancels raise SfumatoError."""
        job_id = self.submit(job, listen=True)
        async for event in self.events(job_id):
            if isinstance(event, Finished):
                return event
            if isinstance(event, Failed):
                raise SfumatoError(event.message, event.kind)
            if isinstance(event, Cancelled):
                raise SfumatoError("The job was cancelled.")
        raise SfumatoError("The job ended without a result.")

    # ---- inside the event loop -----------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        self._listened.put(event)
        for subscriber in self._subscribers:
            subscriber.put_nowait(event)

    def _dispatch(self) -> None:
        if self._running or not self._waiting or self._backend is None:
            return
        job_id, job = self._waiting.popleft()
        self._running = job_id
        self._backend.send(Submit(job_id, job))

    def _on_message(self, generation: object, message: Any) -> None:
        if generation is not self._generation:
            return
        if isinstance(message, EngineInfo):
            self._on_ready(message)
            return
        self._emit(message)
        if isinstance(message, TERMINAL_EVENTS) and message.job_id == self._running:
            self._failed_starts = 0
            self._running = None
            self._dispatch()

    def _on_ready(self, ready: EngineInfo) -> None:
        if ready.error:
            error = BadInput(ready.error)
            if not self._ready.done():
                self._ready.set_exception(error)
            self._fail_waiting(error.message, ErrorKind.BAD_INPUT)
            return
        self.info = ready
        if not self._ready.done():
            self._ready.set_result(ready)
        self._dispatch()

    def _on_exit(self, generation: object, code: int | None) -> None:
        if generation is not self._generation or self._closing:
            return
        detail = f" (exit code {code})" if code is not None else ""
        log.error("engine stopped%s", detail)
        if self._running is not None:
            self._emit(Failed(self._running, ErrorKind.ENGINE_CRASHED, CRASH_MESSAGE.format(code=detail)))
            self._running = None
        self._failed_starts += 1
        if not self._ready.done():
            self._ready.set_exception(
                SfumatoError(f"The engine could not start{detail}.", ErrorKind.ENGINE_CRASHED)
            )
            return
        if self._failed_starts > MAX_RESTARTS_WITHOUT_PROGRESS:
            self._backend = None
            self._fail_waiting(
                "The engine keeps stopping; see the log for the cause.", ErrorKind.ENGINE_CRASHED
            )
            return
        self.info = None
        self._launch()

    def _fail_waiting(self, message: str, kind: ErrorKind) -> None:
        while self._waiting:
            job_id, _job = self._waiting.popleft()
            self._emit(Failed(job_id, kind, message))
