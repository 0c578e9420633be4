"""Holds the open document and re-announces its changes as Qt signals.

Opening or creating a file replaces the whole document; widgets connect here once instead of to
each document, and hear `replaced` when that happens.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from sfumato.desktop.document import Change, Document, History


class DocumentHost(QObject):
    replaced = Signal(object)  # the new Document
    changed = Signal(object)  # a document Change
    history_changed = Signal()
    path_changed = Signal()

    def __init__(self, document: Document | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._document = document or Document()
        self.path: Path | None = None
        self._disconnect: list[Callable[[], None]] = []
        self._connect(self._document)

    @property
    def document(self) -> Document:
        return self._document

    def replace(self, document: Document, path: Path | None = None) -> None:
        for disconnect in self._disconnect:
            disconnect()
        self._document = document
        self.path = path
        self._connect(document)
        self.replaced.emit(document)
        self.history_changed.emit()
        self.path_changed.emit()

    def set_path(self, path: Path | None) -> None:
        self.path = path
        self.path_changed.emit()

    def _connect(self, document: Document) -> None:
        self._disconnect = [
            document.changed.connect(self._on_change),
            document.history.changed.connect(self._on_history),
        ]

    def _on_change(self, change: Change) -> None:
        self.changed.emit(change)

    def _on_history(self, _history: History) -> None:
        self.history_changed.emit()
