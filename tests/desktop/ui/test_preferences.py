"""Edit › Preferences…: what the artist sets is kept in the settings file, takes effect at once where
it can (history memory, autosave, theme, default model), restarts the engine for a new device, and
is read again at the next launch (frame size, interface size)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from sfumato.core.paths import config_dir
from sfumato.desktop.app import scale_interface
from sfumato.desktop.engine_client import EngineClient, EngineState
from sfumato.desktop.ui.main_window import MainWindow
from sfumato.desktop.ui.preferences import Preferences
from sfumato.desktop.ui.preferences_dialog import PreferencesDialog
from sfumato.desktop.ui.settings import FILE_NAME, Settings
from tests.desktop.ui.conftest import forget_changes, run
from tests.desktop.ui.fake_engine import FakeEngine


def _open_dialog(window: MainWindow) -> PreferencesDialog:
    window.actions_by_name["preferences"].trigger()
    dialog = window.preferences.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def _stored() -> dict[str, object]:
    preferences = json.loads((config_dir() / FILE_NAME).read_text(encoding="utf-8"))["preferences"]
    assert isinstance(preferences, dict)
    return preferences


def test_preferences_apply_at_once_and_persist(
    qtbot: QtBot, window: MainWindow, client: EngineClient
) -> None:
    for used in ("/models/harbour", "/models/ink"):  # as generating with them does
        window.generation.models.select(used)
        window.window_settings.remember_model(used)
    dialog = _open_dialog(window)
    assert dialog.performance.title() == "Performance" and dialog.device.currentData() == "auto"
    dialog.history.setValue(128)
    dialog.autosave.setValue(5)
    dialog.frame_width.setValue(768)
    dialog.frame_height.setValue(640)
    dialog.model.setCurrentIndex(dialog.model.findData("/models/harbour"))
    dialog.theme.setCurrentIndex(dialog.theme.findData("system"))
    dialog.ui_scale.setCurrentIndex(dialog.ui_scale.findData("1.5"))
    dialog.accept()

    assert window.document.history.budget_bytes == 128 * 1024 * 1024
    assert window.recovery.interval_seconds == 300
    assert window.generation.models.model() == "/models/harbour"
    app = QApplication.instance()
    assert isinstance(app, QApplication) and app.styleSheet() == ""  # the system theme has no dark sheet
    assert _stored()["ui_scale"] == 1.5 and _stored()["history_mb"] == 128

    window.files.new_document()
    assert window.document.history.budget_bytes == 128 * 1024 * 1024  # every document, not just the open one

    forget_changes(window)
    window.close()
    again = MainWindow(client, Settings())
    qtbot.addWidget(again, before_close_func=forget_changes)
    assert (again.document.frame.width, again.document.frame.height) == (768, 640)
    assert again.document.history.budget_bytes == 128 * 1024 * 1024
    assert again.recovery.interval_seconds == 300
    assert again.generation.models.model() == "/models/harbour"  # the default, though ink was used last
    assert again.preferences.current.ui_scale == 1.5


def test_cancel_changes_nothing(window: MainWindow) -> None:
    dialog = _open_dialog(window)
    dialog.history.setValue(64)
    dialog.reject()
    assert window.preferences.current == Preferences()
    assert window.document.history.budget_bytes == Preferences().history_bytes


@pytest.fixture
def restartable_client(
    qtbot: QtBot, qt_loop: qasync.QEventLoop
) -> Iterator[tuple[EngineClient, list[FakeEngine]]]:
    started: list[FakeEngine] = []

    async def start() -> FakeEngine:
        started.append(FakeEngine())
        return started[-1]

    engine_client = EngineClient(start)
    run(qtbot, engine_client.start())
    yield engine_client, started
    run(qtbot, engine_client.close())


@pytest.mark.parametrize(("choice", "value"), [("device", "cpu"), ("memory", "low"), ("speed", "fast")])
def test_a_new_engine_choice_restarts_the_engine_with_it(
    qtbot: QtBot, restartable_client: tuple[EngineClient, list[FakeEngine]], choice: str, value: str
) -> None:
    client, started = restartable_client
    studio = MainWindow(client, Settings())
    qtbot.addWidget(studio, before_close_func=forget_changes)
    dialog = _open_dialog(studio)
    combo = getattr(dialog, choice)
    combo.setCurrentIndex(combo.findData(value))
    dialog.accept()
    assert "Restarting the engine" in studio.status.currentMessage()
    restart = studio.preferences.engine_restart
    assert restart is not None
    qtbot.waitUntil(restart.done)
    assert getattr(client.settings, choice) == value
    assert len(started) == 2 and started[0].closed and not started[1].closed
    assert client.state is EngineState.IDLE
    assert _stored()[choice] == value


def test_unusable_stored_values_read_as_defaults(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "studio.json")
    stored = {
        "device": "tpu",
        "memory": "huge",
        "speed": "warp",
        "history_mb": 0,
        "theme": "dark",
        "ui_scale": 1.25,
    }
    settings.set("preferences", {**stored, "ui_scale": 1.25, "x": 1})
    assert Preferences.load(settings) == Preferences(ui_scale=1.25)


def test_the_interface_size_is_set_for_the_next_launch_unless_the_artist_set_one() -> None:
    environment: dict[str, str] = {}
    scale_interface(Preferences(ui_scale=1.5), environment)
    assert environment == {"QT_SCALE_FACTOR": "1.5"}
    own = {"QT_SCALE_FACTOR": "2"}
    scale_interface(Preferences(ui_scale=1.5), own)
    assert own == {"QT_SCALE_FACTOR": "2"}
