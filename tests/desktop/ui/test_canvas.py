"""The canvas: it shows the document's pixels, mask and frame where the view says, zooms and pans,
and each tool's gesture becomes one undo step on the document."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from sfumato.desktop.document import Frame, Rect
from sfumato.desktop.ui.canvas import MASK_COLOUR, CanvasView
from sfumato.desktop.ui.document_host import DocumentHost
from sfumato.desktop.ui.qimage import to_rgba_array
from sfumato.desktop.ui.tool_settings import Tool, ToolSettings
from sfumato.desktop.ui.viewport import Viewport
from tests.desktop.document.helpers import solid


@pytest.fixture
def canvas(qtbot: QtBot) -> CanvasView:
    view = CanvasView(DocumentHost(), ToolSettings())
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    view.set_viewport(Viewport(scale=1.0, origin_x=-50, origin_y=-50))
    return view


def shown(canvas: CanvasView) -> np.ndarray:
    """What the canvas shows, as RGBA pixels in widget coordinates."""
    return to_rgba_array(canvas.grab().toImage())


def widget_point(canvas: CanvasView, x: float, y: float) -> QPoint:
    wx, wy = canvas.viewport.to_widget(x, y)
    return QPoint(round(wx), round(wy))


def drag(
    qtbot: QtBot,
    canvas: CanvasView,
    points: list[tuple[float, float]],
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    """Press at the first point, move through the others, release at the last."""
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, modifiers, widget_point(canvas, *points[0]))
    for x, y in points[1:]:
        qtbot.mouseMove(canvas, widget_point(canvas, x, y))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, modifiers, widget_point(canvas, *points[-1]))


def test_layers_are_drawn_where_the_view_puts_them(canvas: CanvasView) -> None:
    document = canvas.document
    document.add_layer("red", pixels=solid(20, 30, (255, 0, 0, 255)), x=10, y=20)
    pixels = shown(canvas)
    assert tuple(pixels[50 + 20 + 5, 50 + 10 + 5, :3]) == (255, 0, 0)
    assert tuple(pixels[50 + 20 - 3, 50 + 10 + 5, :3]) != (255, 0, 0)

    canvas.set_viewport(Viewport(scale=2.0, origin_x=0, origin_y=0))
    pixels = shown(canvas)
    assert tuple(pixels[2 * 20 + 1, 2 * 10 + 1, :3]) == (255, 0, 0)
    assert tuple(pixels[2 * 40 - 2, 2 * 40 - 2, :3]) == (255, 0, 0)
    assert tuple(pixels[2 * 40 + 2, 2 * 40 + 2, :3]) != (255, 0, 0)


def test_a_zoomed_out_view_shows_the_same_picture(canvas: CanvasView) -> None:
    document = canvas.document
    document.add_layer("big", pixels=solid(1024, 2048, (30, 60, 200, 255)), x=-512, y=0)
    canvas.set_viewport(Viewport(scale=1 / 8, origin_x=-600, origin_y=-100))
    pixels = shown(canvas)
    x, y = (int(v) for v in canvas.viewport.to_widget(1200, 800))
    assert tuple(pixels[y, x, :3]) == (30, 60, 200)
    outside_x, _ = (int(v) for v in canvas.viewport.to_widget(1700, 800))
    assert tuple(pixels[y, outside_x, :3]) != (30, 60, 200)


def test_edits_are_repainted(canvas: CanvasView) -> None:
    document = canvas.document
    layer = document.add_layer("paint", pixels=solid(40, 40, (0, 0, 0, 255)))
    assert tuple(shown(canvas)[70, 70, :3]) == (0, 0, 0)
    document.set_layer_properties(layer, visible=False)
    assert tuple(shown(canvas)[70, 70, :3]) != (0, 0, 0)
    document.undo()
    assert tuple(shown(canvas)[70, 70, :3]) == (0, 0, 0)


def test_the_mask_shows_as_a_tint(canvas: CanvasView) -> None:
    canvas.document.add_layer("white", pixels=solid(100, 100, (255, 255, 255, 255)))
    canvas.document.mask_rect(Rect(0, 0, 20, 100))
    pixels = shown(canvas).astype(int)
    masked, plain = pixels[100, 60, :3], pixels[100, 110, :3]
    assert tuple(plain) == (255, 255, 255)
    tint_direction = np.array(MASK_COLOUR) - 255
    assert np.dot(masked - plain, tint_direction) > 0, "masked pixels move towards the mask colour"


def test_wheel_zooms_around_the_pointer(canvas: CanvasView, qapp: QApplication) -> None:
    anchor = QPointF(120, 80)
    before = canvas.viewport.to_canvas(anchor.x(), anchor.y())
    wheel = QWheelEvent(
        anchor, canvas.mapToGlobal(anchor), QPoint(0, 0), QPoint(0, 240),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    qapp.sendEvent(canvas, wheel)
    assert canvas.viewport.scale == pytest.approx(2 ** (2 / 4))
    after = canvas.viewport.to_canvas(anchor.x(), anchor.y())
    assert after == pytest.approx(before)


def test_zoom_steps_fit_and_actual_pixels(canvas: CanvasView) -> None:
    canvas.zoom_in()
    canvas.zoom_in()
    assert canvas.viewport.scale * canvas.devicePixelRatioF() == pytest.approx(2 ** (2 / 4))
    canvas.zoom_out()
    canvas.zoom_out()
    canvas.zoom_out()
    assert canvas.viewport.scale == pytest.approx(2 ** (-1 / 4))
    canvas.document.add_layer("wide", pixels=solid(100, 3000, (1, 1, 1, 255)), x=-1000, y=0)
    canvas.fit()
    visible = canvas.visible_rect()
    assert visible.contains(Rect(-1000, 0, 3000, 100)) and visible.contains(canvas.document.frame.rect)
    canvas.actual_pixels()
    assert canvas.viewport.scale * canvas.devicePixelRatioF() == pytest.approx(1.0)


def test_middle_drag_and_space_drag_pan_without_painting(canvas: CanvasView, qtbot: QtBot) -> None:
    canvas.document.add_layer("paint")
    start = canvas.viewport
    qtbot.mousePress(canvas, Qt.MouseButton.MiddleButton, pos=QPoint(100, 100))
    qtbot.mouseMove(canvas, QPoint(130, 90))
    qtbot.mouseRelease(canvas, Qt.MouseButton.MiddleButton, pos=QPoint(130, 90))
    assert (canvas.viewport.origin_x, canvas.viewport.origin_y) == (start.origin_x - 30, start.origin_y + 10)

    canvas.setFocus()
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(canvas, QPoint(90, 100))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(90, 100))
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert canvas.viewport.origin_x == start.origin_x - 30 + 10
    assert canvas.document.history.labels == ["New layer"], "panning painted nothing"


def test_a_brush_stroke_paints_the_active_layer_as_one_step(canvas: CanvasView, qtbot: QtBot) -> None:
    document = canvas.document
    layer = document.add_layer("paint")
    canvas.tool_settings.set_colour((10, 200, 40))
    canvas.tool_settings.set_size(10)
    drag(qtbot, canvas, [(20, 20), (60, 20), (100, 20)])
    assert document.history.labels[-1] == "Brush stroke"
    assert tuple(layer.read(Rect(60, 20, 1, 1))[0, 0]) == (10, 200, 40, 255)
    assert tuple(shown(canvas)[50 + 20, 50 + 60, :3]) == (10, 200, 40)

    canvas.tool_settings.set_tool(Tool.ERASER)
    drag(qtbot, canvas, [(60, 20), (61, 20)])
    assert document.history.labels[-1] == "Eraser stroke"
    assert layer.read(Rect(60, 20, 1, 1))[0, 0, 3] == 0


def test_painting_a_locked_layer_is_refused_with_a_reason(canvas: CanvasView, qtbot: QtBot) -> None:
    document = canvas.document
    layer = document.add_layer("kept")
    document.set_layer_properties(layer, locked=True)
    with qtbot.waitSignal(canvas.message) as message:
        drag(qtbot, canvas, [(20, 20), (40, 20)])
    assert "locked" in message.args[0]
    assert document.history.labels[-1] == "Lock layer"


def test_mask_brush_rectangle_and_eraser_edit_the_mask(canvas: CanvasView, qtbot: QtBot) -> None:
    document = canvas.document
    tools = canvas.tool_settings
    tools.set_tool(Tool.MASK_BRUSH)
    tools.set_size(8)
    drag(qtbot, canvas, [(30, 30), (31, 30)])
    assert document.history.labels[-1] == "Paint mask"
    assert document.mask.read(Rect(30, 30, 1, 1))[0, 0] == 255

    tools.set_tool(Tool.MASK_RECTANGLE)
    drag(qtbot, canvas, [(100, 100), (140, 120)])
    assert document.history.labels[-1] == "Mask rectangle"
    assert document.mask.read(Rect(100, 100, 40, 20)).all()
    assert not document.mask.read(Rect(141, 100, 5, 5)).any()

    drag(qtbot, canvas, [(100, 100), (120, 120)], modifiers=Qt.KeyboardModifier.AltModifier)
    assert not document.mask.read(Rect(100, 100, 20, 20)).any()
    assert document.mask.read(Rect(121, 100, 19, 20)).all()

    tools.set_tool(Tool.MASK_ERASER)
    drag(qtbot, canvas, [(30, 30), (31, 30)])
    assert document.mask.read(Rect(30, 30, 1, 1))[0, 0] == 0


def test_picker_takes_the_colour_under_the_pointer(canvas: CanvasView, qtbot: QtBot) -> None:
    canvas.document.add_layer("colour", pixels=solid(10, 10, (12, 34, 56, 255)), x=5, y=5)
    canvas.tool_settings.set_tool(Tool.PICKER)
    drag(qtbot, canvas, [(8, 8)])
    assert canvas.tool_settings.colour == (12, 34, 56)


def test_move_tool_moves_the_active_layer_in_one_step(canvas: CanvasView, qtbot: QtBot) -> None:
    document = canvas.document
    layer = document.add_layer("paint", pixels=solid(10, 10, (0, 0, 0, 255)), x=0, y=0)
    canvas.tool_settings.set_tool(Tool.MOVE)
    drag(qtbot, canvas, [(5, 5), (20, 10), (35, 45)])
    assert (layer.x, layer.y) == (30, 40)
    assert document.history.labels[-1] == "Move layer"
    document.undo()
    assert (layer.x, layer.y) == (0, 0)


def test_frame_tool_moves_and_resizes_the_frame_on_the_8_pixel_grid(canvas: CanvasView, qtbot: QtBot) -> None:
    document = canvas.document
    document.set_frame(Frame(0, 0, 128, 128))
    canvas.tool_settings.set_tool(Tool.FRAME)
    drag(qtbot, canvas, [(60, 60), (80, 70), (93, 62)])
    assert document.frame == Frame(32, 0, 128, 128)
    assert document.history.labels[-1] == "Move frame"

    drag(qtbot, canvas, [(160, 60), (180, 60), (190, 60)])  # the right edge
    assert document.frame == Frame(32, 0, 160, 128)
    assert document.history.labels[-1] == "Resize frame"
    assert len(document.history.labels) == 3


def test_brackets_change_the_brush_size() -> None:
    tools = ToolSettings()
    tools.set_size(20)
    tools.grow()
    assert tools.size == 25
    tools.shrink()
    tools.shrink()
    assert tools.size == 16


def test_the_frame_shows_a_preview_image(canvas: CanvasView) -> None:
    document = canvas.document
    document.set_frame(Frame(0, 0, 64, 64))
    canvas.set_frame_image(np.full((8, 8, 3), (250, 200, 0), np.uint8))
    assert tuple(shown(canvas)[50 + 32, 50 + 32, :3]) == (250, 200, 0)
    canvas.set_frame_image(None)
    assert QColor(*shown(canvas)[50 + 32, 50 + 32, :3]) != QColor(250, 200, 0)


def test_pinch_zooms_around_the_fingers(canvas: CanvasView, qapp: QApplication) -> None:
    from PySide6.QtGui import QNativeGestureEvent, QPointingDevice

    centre = QPointF(200, 100)
    before = canvas.viewport.to_canvas(centre.x(), centre.y())
    pinch = QNativeGestureEvent(
        Qt.NativeGestureType.ZoomNativeGesture, QPointingDevice.primaryPointingDevice(), 2,
        centre, centre, canvas.mapToGlobal(centre), 0.5, QPointF(0, 0),
    )  # fmt: skip
    qapp.sendEvent(canvas, pinch)
    assert canvas.viewport.scale == pytest.approx(1.5)
    assert canvas.viewport.to_canvas(centre.x(), centre.y()) == pytest.approx(before)
