"""Work that survives a crash: the open document is autosaved every minute (or as often as the
preferences say), and after a crash the next launch offers the newest autosave back."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from sfumato.core.api import SfumatoError
from sfumato.desktop.document.autosave import Recoverable
from sfumato.desktop.ui.document_files import DocumentFiles
from sfumato.desktop.ui.messages import StudioMessages
from sfumato.desktop.ui.status_bar import StudioStatusBar

AUTOSAVE_SECONDS = 60


class CrashRecovery(QObject):
    def __init__(
        self, files: DocumentFiles, messages: StudioMessages, status: StudioStatusBar, window: QWidget
    ) -> None:
        super().__init__(window)
        self._files = files
        self._messages = messages
        self._status = status
        self._window = window
        self.box: QMessageBox | None = None  # the question, while it is open
        self._timer = QTimer(self, interval=AUTOSAVE_SECONDS * 1000)
        self._timer.timeout.connect(self.autosave)
        self._timer.start()

    def autosave(self) -> None:
        try:
            self._files.autosave()
        except SfumatoError as error:
            self._status.show_message(f"Autosave failed: {error.message}")

    def set_interval(self, seconds: int) -> None:
        self._timer.setInterval(seconds * 1000)

    @property
    def interval_seconds(self) -> int:
        return self._timer.interval() // 1000

    def stop(self) -> None:
        self._timer.stop()

    def offer(self) -> Recoverable | None:
        """After a crash: ask (without blocking) whether to bring back the newest autosave."""
        found = self._files.recoverable()
        if not found:
            return None
        newest = found[0]
        when = newest.saved_at.strftime("%Y-%m-%d %H:%M")
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Recover your work?",
            f"Sfumato did not close properly last time. An autosaved copy of '{newest.title}' from {when} "
            "is available. Recover it?",
            QMessageBox.StandardButton.NoButton,
            self._window,
        )
        box.setObjectName("recoveryPrompt")
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)

        def answered(_result: int) -> None:
            clicked = box.clickedButton()
            if clicked is recover:
                self._messages.guarded(lambda: self._files.recover(newest))
            elif box.buttonRole(clicked) == QMessageBox.ButtonRole.DestructiveRole:
                self._files.discard_recoverable(newest)
            self.box = None

        box.finished.connect(answered)
        self.box = box
        box.open()
        return newest
