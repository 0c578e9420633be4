"""Messages for the artist: a problem they can fix becomes a row in the message area above the canvas
(it stays until dismissed) and a line in the status bar, never a crash."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from sfumato.core.api import (
    Cancelled,
    Event,
    Failed,
    Finished,
    Job,
    MemoryTierUsed,
    SfumatoError,
    Started,
    job_mode,
)
from sfumato.desktop.ui.message_area import Kind, MessageArea
from sfumato.desktop.ui.status_bar import StudioStatusBar

log = logging.getLogger(__name__)

LONG_JOB_S = 60.0  # a job that ran this long gets a message when it finishes: the artist may be away


class StudioMessages(QObject):
    def __init__(self, window: QWidget, status: StudioStatusBar, area: MessageArea) -> None:
        super().__init__(window)
        self._status = status
        self.area = area

    def guarded(self, action: Callable[[], object]) -> None:
        """Run a menu or button action; an SfumatoError becomes a message."""
        try:
            action()
        except SfumatoError as error:
            self.show_error(error.message)

    def show_error(self, text: str) -> None:
        self.show(text, Kind.ERROR)

    def show(self, text: str, kind: Kind) -> None:
        """A row that stays above the canvas (the canvas and the engine keep running), also logged."""
        log.log(logging.WARNING if kind is not Kind.INFO else logging.INFO, "%s", text)
        self.area.add(text, kind)
        self._status.show_message(text)

    @property
    def open(self) -> list[str]:
        """The texts of the messages not dismissed yet."""
        return self.area.texts


class JobNotices(QObject):
    """Tells the artist, in the message area, when a job that ran for a long time has finished and
    when a job ran out of memory and starts over one memory tier down."""

    def __init__(self, messages: StudioMessages, jobs: dict[str, Job]) -> None:
        super().__init__(messages)
        self._messages = messages
        self._jobs = jobs  # the engine client's jobs in flight, by id
        self._started: dict[str, tuple[float, str]] = {}

    def on_event(self, event: Event) -> None:
        match event:
            case Started(job_id):
                job = self._jobs.get(job_id)
                self._started[job_id] = (time.monotonic(), job_mode(job).value if job else "generation")
            case Finished(job_id):
                began, what = self._started.pop(job_id, (time.monotonic(), ""))
                minutes = (time.monotonic() - began) / 60
                if minutes * 60 >= LONG_JOB_S:
                    self._messages.show(f"Finished: the {what} job is done ({minutes:.0f} min).", Kind.INFO)
            case MemoryTierUsed(retry=True, reason=reason):
                self._messages.show(reason, Kind.WARNING)
            case Cancelled(job_id) | Failed(job_id):
                self._started.pop(job_id, None)
            case _:
                pass
