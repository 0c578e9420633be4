"""The engine's job interface (`submit`, `cancel`, `events`) on top of the studio's `EngineClient`, so
the core's zoom loop runs on the studio's engine and its jobs show in the queue like any other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from PySide6.QtCore import QObject

from sfumato.core.api import Cancelled, ErrorKind, Event, Failed, Finished, Job, Step, until_terminal
from sfumato.desktop.engine_client import EngineClient


class ClientJobs(QObject):
    """Jobs submitted through `client`, each with its own stream of events."""

    def __init__(self, client: EngineClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self._streams: dict[str, asyncio.Queue[Event]] = {}
        client.progress.connect(self._on_progress)
        client.finished.connect(lambda job_id, images, recipes: self._put(Finished(job_id, images, recipes)))
        client.failed.connect(
            lambda job_id, kind, message: self._put(Failed(job_id, ErrorKind(kind), message))
        )
        client.cancelled.connect(lambda job_id: self._put(Cancelled(job_id)))

    def submit(self, job: Job) -> str:
        job_id = self.client.submit(job)
        self._streams[job_id] = asyncio.Queue()
        return job_id

    def cancel(self, job_id: str) -> None:
        self.client.cancel(job_id)

    async def events(self, job_id: str) -> AsyncIterator[Event]:
        """The events of one job, ending with its Finished, Cancelled or Failed."""
        stream = self._streams[job_id]
        try:
            async for event in until_terminal(stream):
                yield event
        finally:
            self._streams.pop(job_id, None)

    def _on_progress(self, job_id: str, step: int, total: int, image: int, images: int) -> None:
        self._put(Step(job_id, step, total, image, images))

    def _put(self, event: Event) -> None:
        stream = self._streams.get(event.job_id)
        if stream is not None:
            stream.put_nowait(event)
