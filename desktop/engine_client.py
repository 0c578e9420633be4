"""The studio's link to the engine: owns it, hands its events on as they are, keeps track of its state.

Every engine event (`sfumato.core.api`) reaches the studio once, through the `event` signal; each panel
takes apart the ones it cares about with a `match` and ignores the rest. Code that follows one job to
its end (the zoom) submits it with `listen=True` and reads `events(job_id)`: the client runs jobs like
the engine does (`JobRunner`). Nothing is kept of a job nobody listens to.

The engine runs in its own process by default (in-process for tests and scripts). It restarts itself
when its process dies; the client reports the crash and carries on, and nothing touches the document.
Any object with the engine's interface (`EngineLike`) can stand in for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from sfumato.core.api import (
    TERMINAL_EVENTS,
    EngineSettings,
    ErrorKind,
    Event,
    Failed,
    Job,
    LoadingModel,
    SfumatoError,
    Started,
    Step,
)
from sfumato.core.api import EngineInfo as Ready
from sfumato.core.job_runner import ListenedJobs

log = logging.getLogger(__name__)

RESTART_POLL_MS = 250


class EngineLike(Protocol):
    info: Ready | None

    @property
    def running(self) -> str | None: ...

    @property
    def worker_pid(self) -> int | None: ...

    def submit(self, job: Job) -> str: ...

    def cancel(self, job_id: str) -> None: ...

    def waiting(self) -> list[str]: ...

    def all_events(self) -> AsyncIterator[Event]: ...

    async def close(self) -> None: ...


EngineFactory = Callable[[], Awaitable[EngineLike]]


class EngineState(enum.StrEnum):
    STARTING = "starting"
    IDLE = "idle"
    LOADING = "loading model"
    GENERATING = "generating"
    RESTARTING = "restarting"
    FAILED = "not available"
    STOPPED = "stopped"


def real_engine(settings: EngineSettings) -> EngineFactory:
    async def start() -> EngineLike:
        from sfumato.core.engine import Engine

        return await Engine.start(settings)

    return start


class EngineClient(QObject):
    state_changed = Signal(str)
    engine_event = Signal(object)  # a sfumato.core.api Event, once the client has followed it
    crashed = Signal(str)  # message for the artist

    def __init__(
        self,
        factory: EngineFactory | None = None,
        *,
        settings: EngineSettings | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or EngineSettings()
        self._factory = factory or real_engine(self.settings)
        self._starts_real_engine = factory is None
        self._engine: EngineLike | None = None
        self._pump: asyncio.Task[None] | None = None
        self._state = EngineState.STOPPED
        self.error = ""
        self.jobs: dict[str, Job] = {}
        self._listened = ListenedJobs()
        self._restart_poll = QTimer(self)
        self._restart_poll.setInterval(RESTART_POLL_MS)
        self._restart_poll.timeout.connect(self._check_restarted)

    # ---- lifecycle -----------------------------------------------------------------------------

    @property
    def state(self) -> EngineState:
        return self._state

    @property
    def info(self) -> Ready | None:
        return self._engine.info if self._engine else None

    @property
    def worker_pid(self) -> int | None:
        return self._engine.worker_pid if self._engine else None

    @property
    def ready(self) -> bool:
        return self._engine is not None and self._state not in (EngineState.STARTING, EngineState.FAILED)

    async def start(self) -> None:
        """Start the engine; on failure the state becomes FAILED and `error` says why."""
        self._set_state(EngineState.STARTING)
        try:
            engine = await self._factory()
        except SfumatoError as error:
            self.error = error.message
            self._set_state(EngineState.FAILED)
            return
        self._engine = engine
        self._pump = asyncio.ensure_future(self._read_events(engine.all_events()))
        await asyncio.sleep(0)  # let the reader subscribe before any job is submitted
        self._set_state(EngineState.IDLE)

    async def restart(self, settings: EngineSettings) -> None:
        """Stop the engine (its jobs end) and start it again with `settings`, a new device say."""
        await self.close()
        self.settings = settings
        if self._starts_real_engine:
            self._factory = real_engine(settings)
        await self.start()

    async def close(self) -> None:
        self._restart_poll.stop()
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.close()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        self._set_state(EngineState.STOPPED)

    # ---- jobs ----------------------------------------------------------------------------------

    def submit(self, job: Job, *, listen: bool = False) -> str:
        """Queue `job`; its id. With `listen`, `events(job_id)` yields its events from the first on."""
        if self._engine is None or not self.ready:
            raise SfumatoError(self.error or "The engine is not ready yet. Wait a moment and try again.")
        job_id = self._engine.submit(job)
        self.jobs[job_id] = job
        if listen:  # before any of its events can arrive: they come through the event loop
            self._listened.listen(job_id)
        return job_id

    def events(self, job_id: str) -> AsyncIterator[Event]:
        """The events of a job submitted with `listen=True`, ending with its Finished, Cancelled or
        Failed. Stopping early drops the rest."""
        return self._listened.events(job_id)

    def cancel(self, job_id: str) -> None:
        if self._engine is not None:
            self._engine.cancel(job_id)

    @property
    def running(self) -> str | None:
        return self._engine.running if self._engine else None

    def waiting(self) -> list[str]:
        return self._engine.waiting() if self._engine else []

    # ---- events --------------------------------------------------------------------------------

    async def _read_events(self, events: AsyncIterator[Event]) -> None:
        async for event in events:
            try:
                self._on_event(event)
            except Exception:  # a faulty slot must not stop the studio hearing from the engine
                log.exception("handling %r failed", event)

    def _on_event(self, event: Event) -> None:
        match event:
            case Started() | Step():
                self._set_state(EngineState.GENERATING)
            case LoadingModel():
                self._set_state(EngineState.LOADING)
            case Failed(kind=ErrorKind.ENGINE_CRASHED, message=message):
                self._set_state(EngineState.RESTARTING)
                self._restart_poll.start()
                self.crashed.emit(message)
            case _:
                pass
        if isinstance(event, TERMINAL_EVENTS):
            self.jobs.pop(event.job_id, None)
            if self._state not in (EngineState.RESTARTING, EngineState.FAILED) and self.running is None:
                self._set_state(EngineState.IDLE)
        self._listened.put(event)
        self.engine_event.emit(event)

    def _check_restarted(self) -> None:
        if self._engine is not None and self._engine.info is not None:
            self._restart_poll.stop()
            self._set_state(EngineState.GENERATING if self.running else EngineState.IDLE)

    def _set_state(self, state: EngineState) -> None:
        if state is not self._state:
            self._state = state
            self.state_changed.emit(state.value)
