"""A quiet offer above the Generate button ("Set the frame to 768 × 768?", "Use this picture's
recipe?"): it asks without blocking or taking the keyboard, and a newer offer replaces an older one."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from sfumato.desktop.ui.widgets import tool_button


class OfferBar(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("offerBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.accept_button = QPushButton()
        self.accept_button.clicked.connect(self._accept)
        self.dismiss_button = tool_button("✕", "Not now")
        self.dismiss_button.clicked.connect(self.dismiss)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.dismiss_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        self._on_accept: Callable[[], None] | None = None
        self.hide()

    def offer(self, text: str, accept_label: str, on_accept: Callable[[], None], tooltip: str = "") -> None:
        self.text.setText(text)
        self.text.setToolTip(tooltip)
        self.accept_button.setText(accept_label)
        self._on_accept = on_accept
        self.show()

    @property
    def offered(self) -> str:
        """The text of the offer shown now; empty when there is none."""
        return self.text.text() if self._on_accept is not None else ""

    def dismiss(self) -> None:
        self._on_accept = None
        self.hide()

    def _accept(self) -> None:
        action = self._on_accept
        self.dismiss()
        if action is not None:
            action()
