"""The studio follows each model's own defaults: the first launch with the demo model has a frame of
its size and its CFG, choosing a model offers its native size, the panel keeps what the artist
changed, and the model manager edits a model's own settings."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from bench.demo_model.evaluate import judge
from sfumato.core.demo import DEMO_MODEL_ID
from sfumato.core.models.defaults import model_defaults
from sfumato.desktop.engine_client import EngineClient
from sfumato.desktop.ui.main_window import MainWindow
from sfumato.desktop.ui.model_manager import ModelManager
from sfumato.desktop.ui.model_settings import ModelSettingsDialog
from sfumato.desktop.ui.preferences import Preferences
from sfumato.desktop.ui.settings import Settings
from tests.desktop.ui.conftest import forget_changes

PROMPT = "a red circle on a blue background"


def first_launch(qtbot: QtBot, client: EngineClient) -> MainWindow:
    window = MainWindow(client, Settings())
    qtbot.addWidget(window, before_close_func=forget_changes)
    window.show()
    return window


def test_the_first_launch_with_the_demo_model_has_its_frame_size_and_settings(
    qtbot: QtBot, client: EngineClient
) -> None:
    window = first_launch(qtbot, client)
    frame, panel = window.host.document.frame, window.generation
    assert panel.models.model() == DEMO_MODEL_ID
    assert (frame.width, frame.height) == (64, 64)
    assert (panel.cfg.value(), panel.steps.value()) == (2.0, 20)
    assert not window.host.document.history.is_modified(), "a fresh document, not an edit to undo"


def test_a_frame_size_chosen_in_preferences_wins_over_the_models_own(
    qtbot: QtBot, client: EngineClient
) -> None:
    settings = Settings()
    Preferences(frame_width=256, frame_height=192).save(settings)
    window = MainWindow(client, settings)
    qtbot.addWidget(window, before_close_func=forget_changes)
    frame = window.host.document.frame
    assert (frame.width, frame.height) == (256, 192)
    assert window.generation.cfg.value() == 2.0, "the panel still takes the demo model's settings"


def test_pressing_generate_on_a_first_launch_draws_the_prompt_right(
    qtbot: QtBot, real_client: EngineClient
) -> None:
    window = first_launch(qtbot, real_client)
    window.generation.prompt.setPlainText(PROMPT)
    qtbot.mouseClick(window.generation.generate_button, Qt.MouseButton.LeftButton)
    document = window.host.document
    qtbot.waitUntil(lambda: len(document.layers) == 1, timeout=60_000)
    (layer,) = document.layers
    assert layer.pixels.shape == (64, 64, 4)
    verdict = judge(layer.pixels[..., :3], PROMPT)
    assert verdict.correct, f"the picture is wrong: {verdict.wrong()}"


def test_choosing_a_model_offers_its_native_size_and_keeps_what_the_artist_changed(
    qtbot: QtBot, window: MainWindow, tiny_checkpoint: Path
) -> None:
    panel, document = window.generation, window.host.document
    panel.steps.setValue(33)  # the artist's own choice
    panel.models.select(str(tiny_checkpoint))  # an SD 1.x checkpoint: 512 × 512
    assert panel.steps.value() == 33, "what the artist changed stays"
    assert panel.cfg.value() == model_defaults(str(tiny_checkpoint)).cfg == 7.0, "the rest follow the model"
    offers = window.offers
    assert offers.isVisible() and "512 × 512" in offers.offered
    assert (document.frame.width, document.frame.height) == (64, 64), "nothing changes unasked"

    qtbot.mouseClick(offers.accept_button, Qt.MouseButton.LeftButton)
    assert (document.frame.width, document.frame.height) == (512, 512)
    window.actions_by_name["undo"].trigger()
    assert (document.frame.width, document.frame.height) == (64, 64)

    panel.models.select(DEMO_MODEL_ID)
    assert panel.cfg.value() == 2.0 and not offers.isVisible(), "the frame already has the demo's size"


def test_the_model_manager_edits_a_models_own_settings_and_the_panel_takes_them(
    qtbot: QtBot, window: MainWindow
) -> None:
    manager: ModelManager = window.open_model_manager()
    qtbot.waitUntil(lambda: not manager.busy)
    demo = next(model for model in manager.installed if model.id == DEMO_MODEL_ID)
    dialog: ModelSettingsDialog = manager.edit_settings(demo)
    assert dialog.values() == asdict(model_defaults(DEMO_MODEL_ID))
    dialog.boxes["steps"].setValue(9)  # type: ignore[attr-defined]
    dialog.boxes["cfg"].setValue(3.5)  # type: ignore[attr-defined]
    dialog.save()
    saved = model_defaults(DEMO_MODEL_ID)
    assert (saved.steps, saved.cfg, saved.width) == (9, 3.5, 64)
    assert (window.generation.steps.value(), window.generation.cfg.value()) == (9, 3.5)

    again = manager.edit_settings(demo)
    assert again.values()["steps"] == 9
    again.reset()
    assert model_defaults(DEMO_MODEL_ID).steps == 20 and again.values()["steps"] == 20
    assert window.generation.steps.value() == 20
    again.close()
    manager.close()
