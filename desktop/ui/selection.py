"""The selected rectangle of the canvas (in canvas pixels), or none. It is a view state, not part of
the document: it is neither saved nor undone, and a new document starts without one."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from sfumato.desktop.document import Rect


class Selection(QObject):
    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rect: Rect | None = None

    @property
    def rect(self) -> Rect | None:
        return self._rect

    def set(self, rect: Rect | None) -> None:
        rect = None if rect is None or rect.is_empty() else rect
        if rect != self._rect:
            self._rect = rect
            self.changed.emit()

    def clear(self) -> None:
        self.set(None)
