"""Messages for the artist: a problem they can fix becomes a non-blocking message box and a line in
the status bar, never a crash."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from sfumato.core.api import SfumatoError
from sfumato.desktop.ui.status_bar import StudioStatusBar


class StudioMessages(QObject):
    def __init__(self, window: QWidget, status: StudioStatusBar) -> None:
        super().__init__(window)
        self._window = window
        self._status = status
        self._boxes: list[QMessageBox] = []

    def guarded(self, action: Callable[[], object]) -> None:
        """Run a menu or button action; an SfumatoError becomes a message."""
        try:
            action()
        except SfumatoError as error:
            self.show_error(error.message)

    def show_error(self, text: str) -> None:
        """A non-blocking message box (the canvas and the engine keep running behind it)."""
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Sfumato", text, QMessageBox.StandardButton.Ok, self._window
        )
        box.setObjectName("errorMessage")
        box.finished.connect(lambda _result: self._boxes.remove(box) if box in self._boxes else None)
        self._boxes.append(box)
        self._status.show_message(text)
        box.open()

    @property
    def open(self) -> list[str]:
        """The texts of the message boxes still open."""
        return [box.text() for box in self._boxes]
