"""Work brought back after a crash stays safe until the artist saves it: the title shows it unsaved,
quitting asks first, and its autosave survives until it is saved."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from sfumato.desktop.engine_client import EngineClient
from sfumato.desktop.ui.main_window import MainWindow
from tests.desktop.document.helpers import solid
from tests.desktop.ui.test_studio import open_window


def crash_with_unsaved_work(qtbot: QtBot, client: EngineClient, layer: str) -> None:
    crashed = open_window(qtbot, client)
    crashed.host.document.add_layer(layer, pixels=solid(8, 8, (1, 2, 3, 255)))
    crashed.recovery.autosave()
    crashed.hide()  # the process "dies": no close, the autosave stays behind


def recover_on_launch(qtbot: QtBot, client: EngineClient) -> MainWindow:
    studio = open_window(qtbot, client)
    assert studio.offer_recovery() is not None and studio.recovery.box is not None
    recover = next(b for b in studio.recovery.box.buttons() if b.text() == "Recover")
    qtbot.mouseClick(recover, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: studio.recovery.box is None)
    return studio


def quit_answering(studio: MainWindow, answer: QMessageBox.StandardButton) -> list[str]:
    """Choose File › Quit and answer the unsaved-changes question; returns the questions asked."""
    asked: list[str] = []

    def answer_question() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            asked.append(box.text())
            box.button(answer).click()

    QTimer.singleShot(0, answer_question)
    studio.actions_by_name["quit"].trigger()
    return asked


def test_recovered_work_is_unsaved_until_the_artist_saves_it(
    qtbot: QtBot, client: EngineClient, tmp_path: Path
) -> None:
    crash_with_unsaved_work(qtbot, client, "unsaved work")
    studio = recover_on_launch(qtbot, client)
    assert [layer.name for layer in studio.host.document.layers] == ["unsaved work"]
    assert studio.isWindowModified()

    asked = quit_answering(studio, QMessageBox.StandardButton.Cancel)
    assert asked and "not saved" in asked[0]
    assert studio.isVisible()

    # Undoing and redoing nothing the artist did cannot make it look saved either.
    studio.host.document.add_layer("touch")
    studio.actions_by_name["undo"].trigger()
    assert studio.isWindowModified()

    studio.hide()  # a second crash: the recovered work must still be there next time
    again = recover_on_launch(qtbot, client)
    assert [layer.name for layer in again.host.document.layers] == ["unsaved work"]

    saved = again.files.save(tmp_path / "kept.ora")
    assert saved.is_file() and not again.isWindowModified()
    assert again.files.recoverable() == []
    assert quit_answering(again, QMessageBox.StandardButton.Cancel) == []
    assert not again.isVisible()


def test_discarding_recovered_work_at_quit_removes_its_autosave(qtbot: QtBot, client: EngineClient) -> None:
    crash_with_unsaved_work(qtbot, client, "scrap")
    studio = recover_on_launch(qtbot, client)
    assert quit_answering(studio, QMessageBox.StandardButton.Discard) != []
    assert not studio.isVisible()
    assert open_window(qtbot, client).files.recoverable() == []


def test_a_save_that_fails_at_quit_keeps_the_window_and_the_autosave(
    qtbot: QtBot, client: EngineClient, tmp_path: Path
) -> None:
    crash_with_unsaved_work(qtbot, client, "unsaved work")
    studio = recover_on_launch(qtbot, client)
    blocker = tmp_path / "not a folder"
    blocker.write_text("a file where the folder should be")
    studio.host.set_path(blocker / "kept.ora")

    assert quit_answering(studio, QMessageBox.StandardButton.Save) != []
    assert studio.isVisible() and studio.isWindowModified()
    assert any("kept.ora" in text for text in studio.open_messages)
    assert studio.files.recoverable() != []
