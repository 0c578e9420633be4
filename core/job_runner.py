"""What code that runs jobs needs from whoever runs them: the engine itself, or a front end's link to
it (so the studio's zoom jobs show in its queue like any other)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from sfumato.core.api import Event, Job


class JobRunner(Protocol):
    def submit(self, job: Job, *, listen: bool = False) -> str:
        """Queue `job`; its id. With `listen`, `events(id)` yields all of its events, from the first."""
        ...

    def events(self, job_id: str) -> AsyncIterator[Event]:
        """A listened job's events, ending with its Finished, Cancelled or Failed."""
        ...

    def cancel(self, job_id: str) -> None: ...
