"""Layer → Upscale… with the real engine: the enlarged layer lands above its source as one undo step,
keeping the layer's recipe; Generate → Frame Size… sets an exact size, a preset or the native size."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from sfumato.core.api import Mode, Recipe
from sfumato.core.demo import DEMO_MODEL_ID
from sfumato.desktop.engine_client import EngineClient
from sfumato.desktop.ui.frame_size_dialog import fitting_size
from sfumato.desktop.ui.main_window import MainWindow
from sfumato.desktop.ui.settings import Settings
from tests.desktop.ui.conftest import forget_changes
from tests.desktop.ui.fake_engine import FakeEngine

RECIPE = Recipe(prompt="a quiet harbour", seed=77, width=32, height=24, model="demo", mode=Mode.TXT2IMG)


def studio_with_layer(qtbot: QtBot, client: EngineClient) -> MainWindow:
    window = MainWindow(client, Settings())
    qtbot.addWidget(window, before_close_func=forget_changes)
    window.show()
    pixels = np.random.default_rng(2).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    window.document.add_generated_layer(pixels, RECIPE, x=40, y=16)
    return window


def test_upscaling_a_layer_adds_the_enlarged_layer_as_one_undo_step(
    qtbot: QtBot, real_client: EngineClient
) -> None:
    window = studio_with_layer(qtbot, real_client)
    document = window.document
    steps_before = len(document.history.labels)
    window.actions_by_name["upscale_layer"].trigger()
    dialog = window.layer_upscaler.dialog
    assert dialog is not None and dialog.prompt.text() == "a quiet harbour"  # prefilled from the recipe
    dialog.factor_buttons[4].setChecked(True)
    dialog.accept()
    assert window.layer_upscaler.progress is not None  # progress, with a Cancel button, while it runs
    qtbot.waitUntil(lambda: len(document.layers) == 2, timeout=60_000)

    source, upscaled = document.layers
    assert (upscaled.x, upscaled.y, upscaled.pixels.shape) == (40, 16, (96, 128, 4))
    assert upscaled.recipe is not None
    assert (upscaled.recipe.prompt, upscaled.recipe.seed) == ("a quiet harbour", 77)
    assert upscaled.recipe.extras["Postprocess upscale by"] == "4"
    assert upscaled.pixels[..., 3].min() == 255
    assert window.layer_upscaler.progress is None
    assert len(document.history.labels) == steps_before + 1
    window.actions_by_name["undo"].trigger()
    assert document.layers == (source,)


def test_an_upscale_to_a_size_with_redrawing_needs_a_prompt(qtbot: QtBot, real_client: EngineClient) -> None:
    window = studio_with_layer(qtbot, real_client)
    window.generation.models.select(DEMO_MODEL_ID)
    window.actions_by_name["upscale_layer"].trigger()
    dialog = window.layer_upscaler.dialog
    assert dialog is not None
    dialog.to_size.setChecked(True)
    dialog.width_box.setValue(100)
    dialog.height_box.setValue(70)
    dialog.refine.setChecked(True)
    dialog.prompt.clear()
    choice = dialog.choice()
    assert (choice.width, choice.height, choice.strength) == (96, 64, 0.35)  # redrawn: multiples of 8
    dialog.accept()
    assert window.open_messages and "needs a prompt" in window.open_messages[-1]
    assert len(window.document.layers) == 1


def test_the_frame_takes_an_exact_size_a_preset_or_the_models_native_size(
    qtbot: QtBot, real_client: EngineClient
) -> None:
    window = studio_with_layer(qtbot, real_client)
    document = window.document
    window.generation.models.select(DEMO_MODEL_ID)
    before = document.frame
    dialog = window.open_frame_size()
    dialog.width_box.setValue(640)
    dialog.height_box.setValue(360)
    dialog.accept()
    assert (document.frame.width, document.frame.height) == (640, 360)
    assert (document.frame.x, document.frame.y) == (before.x, before.y)

    dialog = window.open_frame_size()
    dialog.presets.setCurrentIndex(3)
    dialog.presets.activated.emit(3)
    dialog.accept()
    assert (document.frame.width, document.frame.height) == (512, 768)

    assert fitting_size(DEMO_MODEL_ID) == (64, 64)
    dialog = window.open_frame_size()
    dialog.native_button.click()
    dialog.accept()
    assert (document.frame.width, document.frame.height) == (64, 64)
    window.actions_by_name["undo"].trigger()
    assert (document.frame.width, document.frame.height) == (512, 768)


def test_an_upscale_shows_its_progress_and_cancel_stops_it_without_a_layer(
    qtbot: QtBot, client: EngineClient, fake_engine: FakeEngine
) -> None:
    window = studio_with_layer(qtbot, client)
    window.actions_by_name["upscale_layer"].trigger()
    dialog = window.layer_upscaler.dialog
    assert dialog is not None
    dialog.accept()
    job_id = window.layer_upscaler.job_id
    progress = window.layer_upscaler.progress
    assert job_id is not None and progress is not None
    fake_engine.step(3, 4)
    qtbot.waitUntil(lambda: progress.value() == 75)
    qtbot.mouseClick(progress.findChild(QPushButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.layer_upscaler.progress is None)
    assert fake_engine.cancel_requests == [job_id]
    assert len(window.document.layers) == 1 and not window.layer_upscaler.busy
