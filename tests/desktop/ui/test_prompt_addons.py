"""LoRAs and embeddings in the studio's prompt: coloured when installed, marked when not, completed
after `<lora:`, inserted from the Add-ons menu, and an unknown one stopped at Generate."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCharFormat
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from sfumato.core.models.imports import import_embedding, import_lora
from sfumato.desktop.ui.addon_prompt import PromptEdit
from sfumato.desktop.ui.main_window import MainWindow
from sfumato.desktop.ui.prompt_highlighter import FORMATS, Span
from tests.core.models.addon_files import a1111_embedding, kohya_lora
from tests.desktop.ui.fake_engine import FakeEngine


@pytest.fixture
def studio(window: MainWindow, tmp_path: Path) -> MainWindow:
    import_lora(kohya_lora(tmp_path / "ink-wash.safetensors", 768))
    import_lora(kohya_lora(tmp_path / "inkling.safetensors", 768))
    import_embedding(a1111_embedding(tmp_path / "bad-hands.safetensors", 768))
    window.generation.addons.refresh()
    window.generation.models.select("/models/test-model")
    return window


def format_at(box: PromptEdit, text: str) -> QTextCharFormat:
    """The format the highlighter gave the first character of `text` in the prompt."""
    position = box.toPlainText().index(text)
    block = box.document().findBlock(position)
    formats = block.layout().formats()
    for layout_format in formats:
        if layout_format.start <= position - block.position() < layout_format.start + layout_format.length:
            return QTextCharFormat(layout_format.format)  # a copy: the list owns the original
    return QTextCharFormat()


def test_installed_add_ons_are_coloured_and_unknown_loras_marked(studio: MainWindow) -> None:
    box = studio.generation.prompt
    box.setPlainText("a harbour <lora:ink-wash:0.6>, <lora:ghost:1>, BAD-HANDS, bad-handsome")
    known = FORMATS[Span.ADDON].foreground().color()
    assert format_at(box, "<lora:ink-wash").foreground().color() == known
    assert format_at(box, "BAD-HANDS").foreground().color() == known
    unknown = format_at(box, "<lora:ghost")
    assert unknown.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline
    assert format_at(box, "bad-handsome").foreground().color() != known


def test_typing_lora_completes_the_names_of_installed_loras(studio: MainWindow, qtbot: QtBot) -> None:
    box = studio.generation.prompt
    box.clear()
    box.setFocus()
    qtbot.keyClicks(box, "a harbour <lora:INK")
    popup = box.popup
    qtbot.waitUntil(popup.isVisible)
    model = box.completer.completionModel()
    assert [model.index(row, 0).data() for row in range(model.rowCount())] == ["ink-wash", "inkling"]
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert box.toPlainText() == "a harbour <lora:inkling:1>"
    qtbot.keyClicks(box, " <lora:zz")
    assert not popup.isVisible()


def test_the_add_ons_menu_inserts_loras_and_embeddings_at_the_cursor(studio: MainWindow) -> None:
    panel = studio.generation
    panel.prompt.setPlainText("a harbour")
    panel.prompt.moveCursor(panel.prompt.textCursor().MoveOperation.End)
    menu = panel.addon_picker.menu()
    menu.aboutToShow.emit()
    sections = {action.text(): cast(QMenu, action.menu()) for action in menu.actions()}
    # the imported ones, beside those shipped with the demo model
    loras = [action.text() for action in sections["LoRAs"].actions()]
    assert loras == ["demo-bar", "ink-wash", "inkling"]
    assert "sfumato-emblem" in [action.text() for action in sections["Embeddings"].actions()]
    next(a for a in sections["LoRAs"].actions() if a.text() == "ink-wash").trigger()
    next(a for a in sections["Embeddings"].actions() if a.text() == "bad-hands").trigger()
    assert panel.prompt.toPlainText() == "a harbour <lora:ink-wash:1> bad-hands"


def test_generate_with_an_unknown_lora_says_so_at_the_prompt_and_sends_nothing(
    studio: MainWindow, fake_engine: FakeEngine
) -> None:
    panel = studio.generation
    panel.prompt.setPlainText("a harbour <lora:ghost:0.7>")
    assert studio.controller.generate() is None
    assert panel.prompt_problem.isVisible()
    assert 'No LoRA is called "ghost"' in panel.prompt_problem.text()
    assert not fake_engine.jobs
    panel.prompt.setPlainText("a harbour")
    assert not panel.prompt_problem.isVisible()
