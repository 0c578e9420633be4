"""The engine's async API: submit jobs, stream their events, cancel them.

A job's own event stream is kept only when its submitter asks to listen (`submit(job, listen=True)`),
and only until that listener has read the job's last event: a front end that follows every job through
`all_events()` leaves nothing behind, however many previews its jobs send.

Jobs wait in a queue here, in the caller's process, and go to the serving loop one at a time. If the
engine process dies, the running job fails with ENGINE_CRASHED, a fresh process starts, and the queue
carries on. An engine that keeps dying is restarted later and later, and the jobs waiting for it fail
after a few crashes in a row (see `RestartPolicy`): every job gets an outcome.
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
from sfumato.core.engine_restarts import RestartPolicy
from sfumato.core.engine_settings import EngineInfo, EngineSettings
from sfumato.core.job_runner import ListenedJobs, Subscribers
from sfumato.core.protocol import Cancel, Submit

log = logging.getLogger(__name__)

BackendFactory = Callable[[EngineSettings, OnMessage, OnExit], Backend]

CRASH_MESSAGE = (
    "The engine stopped unexpectedly{code} while working on this job. It is being restarted and "
    "nothing was changed or saved; you can run the job again."
)
GAVE_UP_MESSAGE = (
    "The engine stopped {crashes} times in a row{code}, so this job was not run. See the engine's log "
    "for the cause; it is being restarted, and you can run the job again."
)


class Engine:
    def __init__(
        self,
        settings: EngineSettings,
        loop: asyncio.AbstractEventLoop,
        backend: BackendFactory | None = None,
        restarts: RestartPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.restarts = restarts or RestartPolicy()
        self._make_backend: BackendFactory = backend or (
            ThreadBackend if settings.in_process else ProcessBackend
        )
        self.info: EngineInfo | None = None
        self._loop = loop
        self._ids = (f"job-{n}" for n in itertools.count(1))
        self._waiting: deque[tuple[str, Job]] = deque()
        self._running: str | None = None
        self._listened = ListenedJobs()
        self._subscribers = Subscribers()
        self._ready: asyncio.Future[EngineInfo] = loop.create_future()
        self._backend: Backend | None = None
        self._closing = False
        self._generation: object | None = None  # the running backend's; None while there is none
        self._crashes = 0  # in a row, with no job ending in between
        self._restart: asyncio.TimerHandle | None = None
        self._unusable: SfumatoError | None = None  # why the engine cannot run here at all

    # ---- lifecycle -----------------------------------------------------------------------------

    @classmethod
    async def start(
        cls,
        settings: EngineSettings | None = None,
        *,
        backend: BackendFactory | None = None,
        restarts: RestartPolicy | None = None,
    ) -> Engine:
        """Start the engine and wait until it has chosen its device. `backend`: where its serving loop
        runs, when not in the usual process or thread (`settings.in_process`)."""
        engine = cls(settings or EngineSettings(), asyncio.get_running_loop(), backend, restarts)
        engine._launch()
        try:
            engine.info = await asyncio.shield(engine._ready)
        except BaseException:
            await engine.close()
            raise
        return engine

    def _launch(self) -> None:
        generation = object()
        self._generation = generation

        def on_message(message: Any) -> None:
            self._loop.call_soon_threadsafe(self._on_message, generation, message)

        def on_exit(code: int | None) -> None:
            if not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._on_exit, generation, code)

        try:
            self._backend = self._make_backend(self.settings, on_message, on_exit)
        except OSError as error:
            self._loop.call_soon(self._stopped, generation, f" ({error.strerror or error})")
            return
        self._loop.call_later(self.restarts.start_timeout, self._check_started, generation)

    async def close(self) -> None:
        """Stop the engine: waiting jobs are cancelled, and so is the running one."""
        self._closing = True
        if self._restart is not None:
            self._restart.cancel()
        for job_id, _job in list(self._waiting):
            self._emit(Cancelled(job_id))
        self._waiting.clear()
        if self._backend is not None:
            backend, self._backend = self._backend, None
            if self.info is None:
                backend.kill()  # still starting: it has nothing to finish
            elif self._running is not None:
                backend.send(Cancel(self._running))
            await asyncio.to_thread(backend.close, 10.0)
        self._generation = None  # what the old engine still had in its pipe comes too late
        if self._running is not None:
            self._emit(Cancelled(self._running))
            self._running = None

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
        if self._unusable is not None:
            self._emit(Failed(job_id, self._unusable.kind, self._unusable.message))
            return job_id
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

    def all_events(self) -> AsyncIterator[Event]:
        """Every event of every job, in order, for as long as the caller listens."""
        return self._subscribers.events()

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
        self._subscribers.put(event)

    def _dispatch(self) -> None:
        if self._running or not self._waiting or self._backend is None or self.info is None:
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
            self._crashes = 0
            self._running = None
            self._dispatch()

    def _on_ready(self, ready: EngineInfo) -> None:
        if ready.error:
            # The engine cannot run here (a missing device, say); starting it again would not help.
            self._unusable = BadInput(ready.error)
            if not self._ready.done():
                self._ready.set_exception(self._unusable)
            self._fail_waiting(self._unusable.message, self._unusable.kind)
            return
        self.info = ready
        if not self._ready.done():
            self._ready.set_result(ready)
        self._dispatch()

    def _on_exit(self, generation: object, code: int | None) -> None:
        self._stopped(generation, f" (exit code {code})" if code is not None else "")

    def _check_started(self, generation: object) -> None:
        if generation is not self._generation or self.info is not None or self._closing:
            return
        if self._backend is not None:
            self._backend.kill()
        self._stopped(generation, f" (it was not ready within {self.restarts.start_timeout:g} seconds)")

    def _stopped(self, generation: object, detail: str) -> None:
        """The engine of `generation` is gone: fail its job, and start another one after a while."""
        if generation is not self._generation or self._closing:
            return
        self._generation = None
        self._backend = None
        self.info = None
        log.error("engine stopped%s", detail)
        if self._running is not None:
            self._emit(Failed(self._running, ErrorKind.ENGINE_CRASHED, CRASH_MESSAGE.format(code=detail)))
            self._running = None
        if not self._ready.done():
            self._ready.set_exception(
                SfumatoError(f"The engine could not start{detail}.", ErrorKind.ENGINE_CRASHED)
            )
            return
        if self._unusable is not None:
            return
        self._crashes += 1
        if self.restarts.gives_up(self._crashes):
            message = GAVE_UP_MESSAGE.format(crashes=self._crashes, code=detail)
            self._fail_waiting(message, ErrorKind.ENGINE_CRASHED)
        delay = self.restarts.delay(self._crashes)
        log.info("starting the engine again in %g seconds", delay)
        self._restart = self._loop.call_later(delay, self._relaunch)

    def _relaunch(self) -> None:
        self._restart = None
        if not self._closing:
            self._launch()

    def _fail_waiting(self, message: str, kind: ErrorKind) -> None:
        while self._waiting:
            job_id, _job = self._waiting.popleft()
            self._emit(Failed(job_id, kind, message))
