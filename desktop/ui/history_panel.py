"""The History panel: every undo step, oldest first; click one to go back (or forward) to it."""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from sfumato.core.api import SfumatoError
from sfumato.desktop.ui.document_host import DocumentHost

UNDONE = QColor(120, 120, 120)


class HistoryPanel(QWidget):
    def __init__(self, host: DocumentHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyPanel")
        self.host = host
        self._updating = False
        self.list = QListWidget()
        self.list.setObjectName("historyList")
        self.list.currentRowChanged.connect(self._on_row)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.note)
        host.history_changed.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        history = self.host.document.history
        self._updating = True
        try:
            self.list.clear()
            self.list.addItem(QListWidgetItem("Earlier steps" if history.dropped else "Start"))
            for number, label in enumerate(history.labels, start=1):
                item = QListWidgetItem(label)
                if number > history.position:
                    item.setForeground(QBrush(UNDONE))
                self.list.addItem(item)
            self.list.setCurrentRow(history.position)
            self.list.scrollToItem(self.list.currentItem())
        finally:
            self._updating = False
        self.note.setVisible(history.dropped > 0)
        self.note.setText(f"{history.dropped} older steps were let go to save memory.")

    def _on_row(self, row: int) -> None:
        if self._updating or row < 0:
            return
        try:
            self.host.document.jump_to(row)
        except (RuntimeError, SfumatoError):  # a stroke is still in progress
            self.rebuild()
