"""What code that runs jobs needs from whoever runs them: the engine itself, or a front end's link to
it (so the studio's zoom jobs show in its queue like any other)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

from sfumato.core.api import Event, Job, until_terminal


class JobRunner(Protocol):
    def submit(self, job: Job, *, listen: bool = False) -> str:
        """Queue `job`; its id. With `listen`, `events(id)` yields all of its events, from the first."""
        ...

    def events(self, job_id: str) -> AsyncIterator[Event]:
        """A listened job's events, ending with its Finished, Cancelled or Failed."""
        ...

    def cancel(self, job_id: str) -> None: ...


class ListenedJobs:
    """The event streams of the jobs someone listens to, each kept until it has been read to its end
    (or its reader stops): the events of a job nobody listens to are never kept."""

    def __init__(self) -> None:
        self._streams: dict[str, asyncio.Queue[Event]] = {}

    def listen(self, job_id: str) -> None:
        """Keep `job_id`'s events from now on; call it before any of them can arrive."""
        self._streams[job_id] = asyncio.Queue()

    def put(self, event: Event) -> None:
        stream = self._streams.get(event.job_id)
        if stream is not None:
            stream.put_nowait(event)

    def forget(self, job_id: str) -> None:
        self._streams.pop(job_id, None)

    async def events(self, job_id: str) -> AsyncIterator[Event]:
        """The job's events, ending with its Finished, Cancelled or Failed; stopping early drops the rest."""
        stream = self._streams.get(job_id)
        if stream is None:
            raise KeyError(f"no events are kept for {job_id}: submit it with listen=True, and read them once")
        try:
            async for event in until_terminal(stream):
                yield event
        finally:
            self.forget(job_id)


class Subscribers:
    """Every event, in order, to each of those listening right now; nothing is kept for later ones."""

    def __init__(self) -> None:
        self._queues: list[asyncio.Queue[Event]] = []

    def put(self, event: Event) -> None:
        for queue in self._queues:
            queue.put_nowait(event)

    async def events(self) -> AsyncIterator[Event]:
        """The events put from the first iteration on, for as long as the caller listens."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._queues.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.remove(queue)
