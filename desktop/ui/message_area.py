"""The message area above the canvas: errors, engine restarts and finished long jobs stay there, one
row each, until the artist dismisses them (✕), so nothing important passes by in a status line."""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from sfumato.desktop.ui.widgets import tool_button

MAX_SHOWN = 4  # the oldest rows go beyond this, so the canvas keeps its room


class Kind(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


_MARKS = {Kind.ERROR: "⚠", Kind.WARNING: "⚠", Kind.INFO: "ℹ"}


class MessageRow(QWidget):
    dismissed = Signal()

    def __init__(self, text: str, kind: Kind, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("message")
        self.setProperty("kind", kind.value)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.text = text
        self.kind = kind
        self.count = 1
        self.mark = QLabel(_MARKS[kind])
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = tool_button("✕", "Dismiss this message")
        self.close_button.setObjectName("dismissMessage")
        self.close_button.clicked.connect(self.dismissed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.mark, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)

    def repeat(self) -> None:
        self.count += 1
        self.label.setText(f"{self.text} (×{self.count})")


class MessageArea(QWidget):
    """The rows of open messages, newest last; hidden while there are none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageArea")
        self.rows: list[MessageRow] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(1)
        self.hide()

    def add(self, text: str, kind: Kind = Kind.ERROR) -> MessageRow:
        """Show `text` until dismissed; the same message again counts up on its row."""
        for row in self.rows:
            if row.text == text and row.kind is kind:
                row.repeat()
                return row
        row = MessageRow(text, kind, self)
        row.dismissed.connect(lambda: self.dismiss(row))
        self.rows.append(row)
        self._layout.addWidget(row)
        while len(self.rows) > MAX_SHOWN:
            self.dismiss(self.rows[0])
        self.show()
        return row

    def dismiss(self, row: MessageRow) -> None:
        if row in self.rows:
            self.rows.remove(row)
            self._layout.removeWidget(row)
            row.deleteLater()
        self.setVisible(bool(self.rows))

    def dismiss_all(self) -> None:
        for row in list(self.rows):
            self.dismiss(row)

    @property
    def texts(self) -> list[str]:
        return [row.text for row in self.rows]
