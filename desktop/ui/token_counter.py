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
        self.setStyleSheet("color: palette(placeholder-text); background: transparent;")
        self._box = box
        box.textChanged.connect(self.update_count)
        box.installEventFilter(self)
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
        if watched is self._box and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        self.adjustSize()
        box = self._box
        scroll_bar = box.verticalScrollBar()
        right = box.width() - MARGIN - (scroll_bar.width() if scroll_bar.isVisible() else 0)
        self.move(right - self.width(), box.height() - MARGIN - self.height())
