"""The History panel: every undo step, oldest first; click one to go back (or forward) to it.
A run of identical steps (six strokes of "Paint mask") is one row with a count; clicking it goes to
the last step of the run."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from sfumato.core.api import SfumatoError
from sfumato.desktop.ui.document_host import DocumentHost

UNDONE = QColor(120, 120, 120)
POSITION_ROLE = Qt.ItemDataRole.UserRole


def runs(labels: list[str], position: int) -> list[tuple[str, int, int]]:
    """(label, count, last position) for each run of identical labels; a run never spans the
    current position, so done and undone steps stay apart."""
    rows: list[tuple[str, int, int]] = []
    for number, label in enumerate(labels, start=1):
        if rows and rows[-1][0] == label and number != position + 1:
            rows[-1] = (label, rows[-1][1] + 1, number)
        else:
            rows.append((label, 1, number))
    return rows


class HistoryPanel(QWidget):
    def __init__(self, host: DocumentHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyPanel")
        self.host = host
        self._updating = False
        self.list = QListWidget()
        self.list.setObjectName("historyList")
        self.list.setUniformItemSizes(True)
        self.list.currentRowChanged.connect(self._on_row)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.note)
        host.history_changed.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        history = self.host.document.history
        self._updating = True
        try:
            self.list.clear()
            start = QListWidgetItem("Earlier steps" if history.dropped else "Start")
            start.setData(POSITION_ROLE, 0)
            self.list.addItem(start)
            current = 0
            for label, count, last in runs(list(history.labels), history.position):
                item = QListWidgetItem(f"{label} ×{count}" if count > 1 else label)
                item.setData(POSITION_ROLE, last)
                if last > history.position:
                    item.setForeground(QBrush(UNDONE))
                else:
                    current = self.list.count()
                self.list.addItem(item)
            self.list.setCurrentRow(current)
            self.list.scrollToItem(self.list.currentItem())
        finally:
            self._updating = False
        self.note.setVisible(history.dropped > 0)
        self.note.setText(f"{history.dropped} older steps were let go to save memory.")

    def _on_row(self, row: int) -> None:
        if self._updating or row < 0:
            return
        try:
            self.host.document.jump_to(int(self.list.item(row).data(POSITION_ROLE)))
        except (RuntimeError, SfumatoError):  # a stroke is still in progress
            self.rebuild()
