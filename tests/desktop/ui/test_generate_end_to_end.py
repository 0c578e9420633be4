"""From pressing Generate to a new, undoable layer, with the real engine and a real (tiny) model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from sfumato.core.api import Event, Finished, Mode, Step
from sfumato.desktop.engine_client import EngineClient
from sfumato.desktop.ui.main_window import MainWindow
from sfumato.desktop.ui.settings import Settings
from tests.desktop.ui.conftest import forget_changes


def studio(
    qtbot: QtBot, client: EngineClient, model: Path, prompt: str, seed: int, frame_at: tuple[int, int]
) -> MainWindow:
    """A shown studio window with a 64 px frame at `frame_at`, ready to generate `prompt` in 3 steps."""
    window = MainWindow(client, Settings())
    qtbot.addWidget(window, before_close_func=forget_changes)
    window.show()
    document = window.host.document
    document.set_frame(document.frame.resized(64, 64).moved_to(*frame_at))
    panel = window.generation
    panel.models.select(str(model))
    panel.prompt.setPlainText(prompt)
    panel.steps.setValue(3)
    panel.random_seed.setChecked(False)
    panel.seed.setValue(seed)
    return window


def test_generate_button_adds_the_image_as_one_undoable_layer(
    qtbot: QtBot, real_client: EngineClient, tiny_model_dir: Path
) -> None:
    window = studio(qtbot, real_client, tiny_model_dir, "a red circle", seed=11, frame_at=(128, 64))
    document, panel = window.host.document, window.generation
    events: list[Event] = []
    real_client.engine_event.connect(events.append)

    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(document.layers) == 1, timeout=60_000)

    layer = document.layers[0]
    assert layer.recipe is not None
    assert (layer.recipe.prompt, layer.recipe.seed, layer.recipe.mode) == ("a red circle", 11, Mode.TXT2IMG)
    assert (layer.x, layer.y, layer.pixels.shape) == (128, 64, (64, 64, 4))
    assert layer.name == "a red circle"
    assert np.ptp(layer.pixels[..., :3]) > 0, "the model painted something, not a flat fill"
    previews = [event.preview for event in events if isinstance(event, Step) and event.preview is not None]
    assert previews, "the live preview reached the window"
    assert not window.canvas.frame_image_shown, "the preview is gone once the result landed"
    assert document.history.labels[-1] == "Generated layer"

    window.actions_by_name["undo"].trigger()
    assert document.layers == ()
    window.actions_by_name["redo"].trigger()
    assert document.layers == (layer,)


def test_a_generated_layer_can_be_rerolled_and_its_recipe_copied_back(
    qtbot: QtBot, real_client: EngineClient, tiny_model_dir: Path
) -> None:
    window = studio(qtbot, real_client, tiny_model_dir, "a blue square", seed=21, frame_at=(0, 0))
    document, panel = window.host.document, window.generation
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(document.layers) == 1, timeout=60_000)
    first = document.layers[0]
    document.set_frame(document.frame.moved_to(256, 256))  # the re-roll goes where the layer is

    menu = window.layers.context_menu(first)
    reroll, copy, _show = menu.actions()
    reroll.trigger()
    qtbot.waitUntil(lambda: len(document.layers) == 2, timeout=60_000)

    second = next(layer for layer in document.layers if layer is not first)
    assert second.recipe is not None and first.recipe is not None
    assert second.recipe.mode is Mode.TXT2IMG, "a txt2img layer re-rolls as txt2img, not over itself"
    assert second.recipe.seed != first.recipe.seed
    assert second.recipe.prompt == "a blue square" and second.recipe.steps == 3
    assert (second.x, second.y, second.pixels.shape) == (first.x, first.y, first.pixels.shape)
    assert not np.array_equal(second.pixels, first.pixels)

    panel.prompt.setPlainText("something else")
    panel.random_seed.setChecked(True)
    copy.trigger()
    assert panel.prompt.toPlainText() == "a blue square"
    assert not panel.random_seed.isChecked() and panel.seed.value() == 21
    assert panel.steps.value() == 3


def test_a_batch_from_the_real_engine_gives_each_image_once_as_a_candidate(
    qtbot: QtBot, real_client: EngineClient, tiny_model_dir: Path
) -> None:
    window = studio(qtbot, real_client, tiny_model_dir, "a green field", seed=31, frame_at=(0, 0))
    events: list[Event] = []
    real_client.engine_event.connect(events.append)
    window.generation.batch.setValue(2)
    qtbot.mouseClick(window.generation.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=60_000)

    (finished,) = [event for event in events if isinstance(event, Finished)]
    candidates = window.controller.candidates
    assert [candidate.recipe.seed for candidate in candidates] == [31, 32]
    for candidate, image in zip(candidates, finished.images, strict=True):
        assert np.array_equal(candidate.image, image)
    assert window.host.document.layers == ()


def test_painted_layers_offer_no_recipe_actions(qtbot: QtBot, real_client: EngineClient) -> None:
    window = MainWindow(real_client, Settings())
    qtbot.addWidget(window, before_close_func=forget_changes)
    layer = window.host.document.add_layer()
    assert not any(action.isEnabled() for action in window.layers.context_menu(layer).actions())
