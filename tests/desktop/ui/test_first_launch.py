"""First launch with no models installed: the demo model is selected, so Generate works at once."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from sfumato.core.demo import DEMO_MODEL_ID
from sfumato.desktop.engine_client import EngineClient
from sfumato.desktop.ui.main_window import MainWindow
from sfumato.desktop.ui.settings import Settings
from tests.desktop.ui.conftest import forget_changes


def test_the_demo_model_is_chosen_on_first_launch(qtbot: QtBot, client: EngineClient) -> None:
    window = MainWindow(client, Settings())
    qtbot.addWidget(window, before_close_func=forget_changes)
    assert window.generation.models.model() == DEMO_MODEL_ID
