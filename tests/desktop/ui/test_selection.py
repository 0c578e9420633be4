"""The Select tool and the clipboard as an artist uses them: drag out a rectangle, move or scale the
active layer's pixels in it, delete them — each one undo step — and copy and paste images through
the system clipboard, also with other applications."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from sfumato.desktop.document import Layer, Rect
from sfumato.desktop.ui.main_window import MainWindow
from sfumato.desktop.ui.qimage import to_qimage, to_rgba_array
from sfumato.desktop.ui.viewport import Viewport
from tests.desktop.document.helpers import random_pixels, solid

RED = (220, 30, 30, 255)


@pytest.fixture
def studio(window: MainWindow) -> MainWindow:
    """A layer holding a red 20 px square at (40, 40); the Select tool in hand; 100 % zoom."""
    window.canvas.set_viewport(Viewport(scale=1.0, origin_x=-20, origin_y=-20))
    pixels = np.zeros((100, 100, 4), np.uint8)
    pixels[40:60, 40:60] = RED
    window.document.import_image(pixels, x=0, y=0, name="square")
    window.toolbox.actions_by_tool[window.tools.tool.SELECT].trigger()
    return window


def _drag(qtbot: QtBot, window: MainWindow, start: tuple[int, int], end: tuple[int, int]) -> None:
    canvas = window.canvas

    def point(x: int, y: int) -> QPoint:
        wx, wy = canvas.viewport.to_widget(x, y)
        return QPoint(round(wx), round(wy))

    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=point(*start))
    qtbot.mouseMove(canvas, point((start[0] + end[0]) // 2, (start[1] + end[1]) // 2))
    qtbot.mouseMove(canvas, point(*end))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=point(*end))


def _layer(window: MainWindow) -> Layer:
    layer = window.document.active_layer
    assert layer is not None
    return layer


def _steps(window: MainWindow) -> int:
    return len(window.document.history.labels)


def _is_red(layer: Layer, rect: Rect) -> bool:
    return bool((layer.read(rect) == RED).all())


def _is_clear(layer: Layer, rect: Rect) -> bool:
    return not layer.read(rect)[..., 3].any()


def test_dragging_inside_the_selection_moves_its_pixels_in_one_undo_step(
    qtbot: QtBot, studio: MainWindow
) -> None:
    layer, before = _layer(studio), _layer(studio).read(Rect(0, 0, 200, 200))
    _drag(qtbot, studio, (30, 30), (70, 70))
    assert studio.canvas.selection.rect == Rect(30, 30, 40, 40)
    steps = _steps(studio)
    _drag(qtbot, studio, (50, 50), (110, 60))
    assert _steps(studio) == steps + 1 and studio.document.history.labels[-1] == "Move selection"
    assert _is_red(layer, Rect(100, 50, 20, 20)) and _is_clear(layer, Rect(40, 40, 20, 20))
    assert studio.canvas.selection.rect == Rect(90, 40, 40, 40)

    studio.actions_by_name["undo"].trigger()
    assert (layer.read(Rect(0, 0, 200, 200)) == before).all() and layer.rect == Rect(0, 0, 100, 100)
    studio.actions_by_name["redo"].trigger()
    assert _is_red(layer, Rect(100, 50, 20, 20))


def test_dragging_a_handle_scales_the_selected_pixels_in_one_undo_step(
    qtbot: QtBot, studio: MainWindow
) -> None:
    layer, before = _layer(studio), _layer(studio).pixels.copy()
    _drag(qtbot, studio, (40, 40), (60, 60))
    steps = _steps(studio)
    _drag(qtbot, studio, (60, 60), (80, 90))  # the bottom-right corner handle
    assert _steps(studio) == steps + 1 and studio.document.history.labels[-1] == "Scale selection"
    assert _is_red(layer, Rect(40, 40, 40, 50))
    assert studio.canvas.selection.rect == Rect(40, 40, 40, 50)
    studio.actions_by_name["undo"].trigger()
    assert (layer.pixels == before).all()


def test_delete_clears_the_selected_pixels_in_one_undo_step(qtbot: QtBot, studio: MainWindow) -> None:
    layer, before = _layer(studio), _layer(studio).pixels.copy()
    _drag(qtbot, studio, (30, 30), (50, 50))
    steps = _steps(studio)
    studio.actions_by_name["delete_selection"].trigger()
    assert _steps(studio) == steps + 1
    assert _is_clear(layer, Rect(30, 30, 20, 20)) and _is_red(layer, Rect(50, 50, 10, 10))
    studio.actions_by_name["undo"].trigger()
    assert (layer.pixels == before).all()


def test_a_locked_layer_keeps_its_pixels(qtbot: QtBot, studio: MainWindow) -> None:
    layer, before = _layer(studio), _layer(studio).pixels.copy()
    studio.document.set_layer_properties(layer, locked=True)
    _drag(qtbot, studio, (30, 30), (70, 70))
    steps = _steps(studio)
    _drag(qtbot, studio, (50, 50), (110, 60))
    assert _steps(studio) == steps and (layer.pixels == before).all()
    assert "locked" in studio.status.currentMessage()


def test_copy_and_paste_round_trip_through_the_system_clipboard(qtbot: QtBot, studio: MainWindow) -> None:
    layer = _layer(studio)
    texture = random_pixels(30, 30, seed=7)  # every alpha level, so nothing is lost to premultiplying
    studio.document.import_image(texture, x=10, y=10, name="texture")
    _drag(qtbot, studio, (10, 10), (40, 40))
    studio.actions_by_name["copy"].trigger()
    copied = to_rgba_array(QGuiApplication.clipboard().image())
    assert copied.shape == (30, 30, 4)

    _drag(qtbot, studio, (150, 150), (180, 170))  # paste where the new selection is
    steps, count = _steps(studio), len(studio.document.layers)
    studio.actions_by_name["paste"].trigger()
    pasted = _layer(studio)
    assert len(studio.document.layers) == count + 1 and _steps(studio) == steps + 1
    assert pasted.rect == Rect(150, 150, 30, 30) and (pasted.pixels == texture).all()
    studio.actions_by_name["undo"].trigger()
    assert len(studio.document.layers) == count and layer in studio.document.layers


def test_without_a_selection_copy_takes_the_layer_and_paste_lands_in_the_view_centre(
    studio: MainWindow,
) -> None:
    studio.actions_by_name["copy"].trigger()
    assert (to_rgba_array(QGuiApplication.clipboard().image()) == solid(20, 20, RED)).all()
    studio.actions_by_name["paste"].trigger()
    view = studio.canvas.visible_rect()
    pasted = _layer(studio)
    assert pasted.name == "Pasted" and (pasted.pixels == solid(20, 20, RED)).all()
    centre = (view.x + view.width // 2, view.y + view.height // 2)
    assert abs(pasted.rect.x + 10 - centre[0]) <= 1 and abs(pasted.rect.y + 10 - centre[1]) <= 1


def test_an_image_copied_in_another_application_pastes(studio: MainWindow) -> None:
    picture = random_pixels(24, 32, seed=3, opaque=True)
    QGuiApplication.clipboard().setImage(to_qimage(picture))  # a plain image, as other programs offer
    studio.actions_by_name["paste"].trigger()
    assert (_layer(studio).pixels == picture).all()


def test_pasting_without_an_image_says_so(studio: MainWindow) -> None:
    QGuiApplication.clipboard().setText("just words")
    count = len(studio.document.layers)
    studio.actions_by_name["paste"].trigger()
    assert len(studio.document.layers) == count
    assert studio.open_messages == ["The clipboard holds no image to paste."]
