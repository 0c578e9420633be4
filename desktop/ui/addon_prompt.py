"""Writing LoRAs and embeddings into a prompt: a prompt box that completes LoRA names as `<lora:` is
typed, and a button whose menu inserts any LoRA or embedding the artist has."""

from __future__ import annotations

import re
from functools import partial

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtGui import QKeyEvent, QTextCursor
from PySide6.QtWidgets import QAbstractItemView, QCompleter, QMenu, QPlainTextEdit, QToolButton, QWidget

from sfumato.desktop.ui.addon_names import AddonDirectory
from sfumato.desktop.ui.prompt_highlighter import PromptHighlighter

_LORA_PREFIX = re.compile(r"<(?:lora|lyco):([^<>:]*)$", re.IGNORECASE)
_POPUP_KEYS = {Qt.Key.Key_Enter, Qt.Key.Key_Return, Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Escape}


class PromptEdit(QPlainTextEdit):
    """A prompt box that highlights its syntax and offers the LoRAs' names after `<lora:`."""

    def __init__(self, addons: AddonDirectory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.addons = addons
        PromptHighlighter(self.document(), addons.names)
        self._lora_names = QStringListModel(self)
        self.completer = QCompleter(self._lora_names, self)
        self.completer.setWidget(self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.activated.connect(self._complete)
        self.textChanged.connect(self._offer_completions)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.popup.isVisible() and event.key() in _POPUP_KEYS:
            event.ignore()  # the completer's popup takes these
            return
        super().keyPressEvent(event)

    @property
    def popup(self) -> QAbstractItemView:
        """The completer's list of names."""
        popup = self.completer.popup()
        assert popup is not None  # a QCompleter always makes one
        return popup

    def lora_prefix(self) -> str | None:
        """What is typed of a LoRA's name right before the cursor, when it follows `<lora:`."""
        cursor = self.textCursor()
        before = cursor.block().text()[: cursor.positionInBlock()]
        match = _LORA_PREFIX.search(before)
        return match.group(1) if match else None

    def insert_at_cursor(self, text: str) -> None:
        """Insert `text` where the cursor is, with a space before it if it would touch a word."""
        cursor = self.textCursor()
        before = cursor.block().text()[: cursor.positionInBlock()]
        cursor.insertText((" " if before and not before[-1].isspace() else "") + text)
        self.setTextCursor(cursor)

    def _offer_completions(self) -> None:
        prefix = self.lora_prefix()
        popup = self.popup
        if prefix is None:
            popup.hide()
            return
        self._lora_names.setStringList(list(self.addons.names().loras))
        self.completer.setCompletionPrefix(prefix)
        if self.completer.completionCount() == 0:
            popup.hide()
            return
        popup.setCurrentIndex(self.completer.completionModel().index(0, 0))
        rect = self.cursorRect()
        rect.setWidth(popup.sizeHintForColumn(0) + 32)
        self.completer.complete(rect)

    def _complete(self, name: str) -> None:
        prefix = self.lora_prefix()
        if prefix is None:
            return
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, len(prefix))
        following = self.toPlainText()[cursor.selectionEnd() : cursor.selectionEnd() + 1]
        cursor.insertText(name if following in (":", ">") else f"{name}:1>")
        self.setTextCursor(cursor)


class AddonPicker(QToolButton):
    """ "Add-ons ▾": a menu of the LoRAs and embeddings the artist has; choosing one inserts it."""

    def __init__(self, prompt: PromptEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prompt = prompt
        self.setText("Add-ons")
        self.setToolTip("Insert a LoRA or an embedding into the prompt")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setMenu(QMenu(self))
        self.menu().aboutToShow.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        self.prompt.addons.refresh()
        names = self.prompt.addons.names()
        menu = self.menu()
        menu.clear()
        for title, items, written in (
            ("LoRAs", names.loras, "<lora:{}:1>"),
            ("Embeddings", names.embeddings, "{}"),
        ):
            section = menu.addMenu(title)
            section.setObjectName(title.lower())
            for name in items:
                action = section.addAction(name)
                action.triggered.connect(partial(self._insert, written.format(name)))
            if not items:
                empty = section.addAction("None yet: add them in the model manager")
                empty.setEnabled(False)

    def _insert(self, text: str, _checked: bool = False) -> None:
        self.prompt.insert_at_cursor(text)
        self.prompt.setFocus()
