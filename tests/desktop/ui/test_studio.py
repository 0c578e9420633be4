"""The studio as a whole: settings and layout persist, files open, save, export and recover, files
dropped on the window come in, the shortcuts work, and `main` opens and closes the window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from sfumato.core.api import Recipe
from sfumato.core.metadata import read_recipe
from sfumato.core.paths import config_dir
from sfumato.desktop.document import Rect
from sfumato.desktop.engine_client import EngineClient, EngineState
from sfumato.desktop.ui.main_window import MainWindow
from sfumato.desktop.ui.settings import FILE_NAME, Settings
from tests.desktop.document.helpers import solid
from tests.desktop.ui.conftest import forget_changes


def open_window(qtbot: QtBot, client: EngineClient) -> MainWindow:
    studio = MainWindow(client, Settings())
    qtbot.addWidget(studio, before_close_func=forget_changes)
    studio.show()
    qtbot.waitExposed(studio)
    return studio


def test_layout_and_generation_settings_come_back_next_time(qtbot: QtBot, client: EngineClient) -> None:
    first = open_window(qtbot, client)
    first.resize(760, 680)
    first.docks["queue"].hide()
    first.generation.prompt.setPlainText("a quiet harbour")
    first.generation.steps.setValue(33)
    first.generation.advanced["clip_skip"].setValue(2)
    first.generation.models.select("/models/harbour")
    first.controller.model_used.emit("/models/harbour")
    first.close()
    assert (config_dir() / FILE_NAME).is_file()

    second = open_window(qtbot, client)
    assert (second.width(), second.height()) == (760, 680)
    assert second.docks["queue"].isHidden() and not second.docks["layers"].isHidden()
    assert second.generation.prompt.toPlainText() == "a quiet harbour"
    assert second.generation.steps.value() == 33
    assert second.generation.settings().clip_skip == 2
    assert second.generation.models.model() == "/models/harbour"


def test_a_damaged_settings_file_is_ignored(qtbot: QtBot, client: EngineClient) -> None:
    (config_dir() / FILE_NAME).write_text("{not json", encoding="utf-8")
    studio = open_window(qtbot, client)
    assert studio.generation.steps.value() == 20


def test_save_open_and_recent_files(window: MainWindow, tmp_path: Path) -> None:
    document = window.host.document
    document.add_layer("sky", pixels=solid(16, 16, (40, 80, 160, 255)))
    assert window.isWindowModified()
    saved = window.files.save(tmp_path / "harbour")
    assert saved == tmp_path / "harbour.ora" and saved.is_file()
    assert not window.isWindowModified()
    assert window.windowTitle().startswith("harbour.ora")

    window.files.new_document()
    assert not window.host.document.layers
    window.files.open(saved)
    assert [layer.name for layer in window.host.document.layers] == ["sky"]
    assert [action.text() for action in window.menus.recent_menu.actions()] == ["harbour.ora"]


def test_exports_carry_the_recipe_of_a_lone_generation(window: MainWindow, tmp_path: Path) -> None:
    document = window.host.document
    recipe = Recipe(prompt="a red barn", seed=99, width=16, height=16)
    document.add_generated_layer(np.full((16, 16, 3), (200, 30, 30), np.uint8), recipe, x=0, y=0)
    window.files.export_visible(tmp_path / "barn.png")
    assert read_recipe(tmp_path / "barn.png") == recipe
    assert np.asarray(Image.open(tmp_path / "barn.png")).shape == (16, 16, 3)

    document.add_layer("sketch", pixels=solid(4, 4, (0, 0, 0, 255)), x=20, y=0)
    window.files.export_visible(tmp_path / "both.png")
    assert read_recipe(tmp_path / "both.png") is None
    assert Image.open(tmp_path / "both.png").size == (24, 16)

    window.files.export_layer(tmp_path / "sketch.png")
    assert Image.open(tmp_path / "sketch.png").size == (4, 4)


def test_work_left_by_a_crash_is_offered_back(qtbot: QtBot, client: EngineClient) -> None:
    crashed = open_window(qtbot, client)
    crashed.host.document.add_layer("unsaved work", pixels=solid(8, 8, (1, 2, 3, 255)))
    crashed.recovery.autosave()
    crashed.hide()  # the process "dies": no close, the autosave stays behind

    studio = open_window(qtbot, client)
    offered = studio.offer_recovery()
    assert offered is not None and studio.recovery.box is not None
    recover = next(b for b in studio.recovery.box.buttons() if b.text() == "Recover")
    qtbot.mouseClick(recover, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: studio.recovery.box is None)
    assert [layer.name for layer in studio.host.document.layers] == ["unsaved work"]
    assert studio.files.recoverable() != [] and studio.files.recoverable()[0].path != offered.path


def test_discarding_recovery_removes_the_autosave(qtbot: QtBot, client: EngineClient) -> None:
    crashed = open_window(qtbot, client)
    crashed.host.document.add_layer("scrap")
    crashed.recovery.autosave()
    crashed.hide()
    studio = open_window(qtbot, client)
    studio.offer_recovery()
    assert studio.recovery.box is not None
    discard = next(
        b
        for b in studio.recovery.box.buttons()
        if studio.recovery.box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole
    )
    qtbot.mouseClick(discard, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: studio.recovery.box is None)
    assert studio.files.recoverable() == [] and studio.host.document.layers == ()
    assert studio.offer_recovery() is None


def test_dropped_images_become_layers_where_they_land(window: MainWindow, tmp_path: Path) -> None:
    picture = tmp_path / "photo.png"
    Image.fromarray(np.full((10, 12, 3), (9, 99, 199), np.uint8)).save(picture)
    canvas = window.canvas
    x, y = canvas.viewport.to_widget(40, 24)
    window.file_commands.drop_files([picture], QPointF(x, y))
    (layer,) = window.host.document.layers
    assert (layer.name, layer.x, layer.y, layer.pixels.shape) == ("photo", 40, 24, (10, 12, 4))

    window.file_commands.drop_files([tmp_path / "missing.png"])
    assert any("missing.png" in text for text in window.open_messages)


def test_undo_and_redo_shortcuts(window: MainWindow, qtbot: QtBot) -> None:
    document = window.host.document
    document.add_layer("a")
    document.mask_rect(Rect(0, 0, 4, 4))
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert document.history.position == 0
    qtbot.keyClick(
        window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert document.history.position == 1
    qtbot.keyClick(window.canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert document.history.position == 2


def test_tool_shortcuts_and_brush_size_keys(window: MainWindow, qtbot: QtBot) -> None:
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_M)
    assert window.tools.tool.value == "mask brush"
    size = window.tools.size
    qtbot.keyClick(window.canvas, Qt.Key.Key_BracketRight)
    assert window.tools.size > size
    assert window.brush_options.size_box.value() == round(window.tools.size)


def test_main_opens_the_studio_and_returns_when_it_closes(qapp: QApplication, tiny_model_dir: Path) -> None:
    from sfumato.desktop.app import main

    seen: list[MainWindow] = []

    def close_when_ready() -> None:
        windows = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if windows and windows[0].client.state is EngineState.IDLE:
            seen.append(windows[0])
            windows[0].close()

    poll = QTimer(interval=50)
    poll.timeout.connect(close_when_ready)
    poll.start()
    try:
        code = main(["--in-process", "--device", "cpu"])
    finally:
        poll.stop()
    assert code == 0
    assert seen and seen[0].client.state is EngineState.STOPPED
    assert "Sfumato" in seen[0].windowTitle()


def test_typing_in_the_prompt_never_triggers_single_key_shortcuts(window: MainWindow, qtbot: QtBot) -> None:
    prompt = window.generation.prompt
    prompt.setFocus()
    qtbot.keyClicks(prompt, "b[e]-m+f")
    assert prompt.toPlainText() == "b[e]-m+f"
    assert window.tools.tool.value == "brush" and window.tools.size == 24
    before = window.canvas.viewport
    qtbot.keyClicks(prompt, "++--")
    assert window.canvas.viewport == before


def test_an_unchanged_document_is_autosaved_once(window: MainWindow) -> None:
    window.host.document.add_layer("sketch")
    first = window.files.autosave()
    assert first is not None and first.is_file()
    assert window.files.autosave() is None
    window.host.document.add_layer("more")
    assert window.files.autosave() == first


def test_a_clean_exit_leaves_no_autosave_behind(qtbot: QtBot, client: EngineClient) -> None:
    studio = open_window(qtbot, client)
    studio.host.document.add_layer("sketch")
    studio.recovery.autosave()
    assert studio.files.recoverable() != []
    forget_changes(studio)  # the artist chose not to keep the sketch: closing asks nothing more
    assert studio.close()
    assert open_window(qtbot, client).files.recoverable() == []
