"""The token count in the corner of a prompt box, e.g. "12/75" or "80/150": the prompt's CLIP
tokens and the room in the 75-token chunks they fill (BREAK starts a new chunk)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit

from sfumato.core.api import BadInput
from sfumato.core.clip_tokens import count_prompt_tokens

MARGIN = 4


class TokenCounter(QLabel):
    def __init__(self, box: QPlainTextEdit) -> None:
        super().__init__(box)
        self.setObjectName(f"{box.objectName()}Tokens")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        # A small badge over the text's corner, so a full box stays readable around it.
        self.setStyleSheet("color: palette(placeholder-text); background: palette(base); padding: 0 2px;")
        self._box = box
        box.textChanged.connect(self.update_count)
        box.viewport().installEventFilter(self)  # resized with the box and when its scroll bar comes
        self.update_count()

    def update_count(self) -> None:
        try:
            count = count_prompt_tokens(self._box.toPlainText())
        except BadInput as error:
            self.setText("?")
            self.setToolTip(error.message)
        else:
            self.setText(str(count))
            self.setToolTip(
                f"{count.tokens} tokens in {count.chunks} chunk{'s' if count.chunks > 1 else ''} of 75; "
                "a longer prompt is encoded in more chunks, BREAK starts a new one"
            )
        self._place()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        """In the bottom right corner of the text area, left of a scroll bar."""
        self.adjustSize()
        area = self._box.viewport().geometry()
        self.move(area.right() - MARGIN - self.width(), area.bottom() - MARGIN - self.height())
