"""What each tool does with the pointer on the canvas. Coordinates are canvas pixels (floats).

Every edit goes through the document, so each finished gesture is one undo step; tools only draw
their own feedback (rubber bands, outlines, the frame being dragged) on top of the canvas.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from sfumato.core.api import BadInput
from sfumato.desktop.document import Document, Frame, Layer, Rect, Stroke
from sfumato.desktop.ui.qimage import to_display_qimage
from sfumato.desktop.ui.selection import Selection
from sfumato.desktop.ui.tool_settings import ToolSettings
from sfumato.desktop.ui.viewport import Viewport

OUTLINE = QColor(235, 235, 235)
OUTLINE_SHADOW = QColor(0, 0, 0, 160)
# How close (in screen pixels) to the frame's edge a press grabs the edge instead of moving it.
FRAME_GRAB = 8.0


class ToolHost(Protocol):
    """What a tool needs from the canvas."""

    @property
    def document(self) -> Document: ...

    @property
    def tool_settings(self) -> ToolSettings: ...

    @property
    def viewport(self) -> Viewport: ...

    @property
    def selection(self) -> Selection: ...

    def refresh(self) -> None: ...

    def report(self, message: str) -> None: ...


def widget_rect(viewport: Viewport, left: float, top: float, right: float, bottom: float) -> QRectF:
    x0, y0 = viewport.to_widget(left, top)
    x1, y1 = viewport.to_widget(right, bottom)
    return QRectF(QPointF(x0, y0), QPointF(x1, y1))


def on_screen(viewport: Viewport, rect: Rect) -> QRectF:
    return widget_rect(viewport, rect.x, rect.y, rect.right, rect.bottom)


def draw_outline(painter: QPainter, rect: QRectF, dashed: bool = False) -> None:
    """A light line over a dark one, visible on any picture."""
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(OUTLINE_SHADOW, 3.0))
    painter.drawRect(rect)
    pen = QPen(OUTLINE, 1.0)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.drawRect(rect)


def draw_handles(painter: QPainter, target: QRectF) -> None:
    """Squares on the corners and edge middles of `target`, where a drag resizes it."""
    painter.setPen(QPen(QColor(0, 0, 0, 180), 1.0))
    painter.setBrush(QColor(235, 235, 235))
    for x in (target.left(), target.center().x(), target.right()):
        for y in (target.top(), target.center().y(), target.bottom()):
            if x == target.center().x() and y == target.center().y():
                continue
            painter.drawRect(QRectF(x - 3.5, y - 3.5, 7, 7))


Edges = tuple[float, float, float, float]  # left, top, right, bottom


def grab_at(edges: Edges, x: float, y: float, reach: float) -> tuple[str, str]:
    """What a press at (x, y) takes hold of: ("left"/"right"/"", "top"/"bottom"/"") for an edge or
    a corner, ("move", "move") inside, ("new", "new") outside."""
    left, top, right, bottom = edges
    if not (left - reach <= x <= right + reach and top - reach <= y <= bottom + reach):
        return "new", "new"
    horizontal = "left" if abs(x - left) <= reach else "right" if abs(x - right) <= reach else ""
    vertical = "top" if abs(y - top) <= reach else "bottom" if abs(y - bottom) <= reach else ""
    return (horizontal, vertical) if horizontal or vertical else ("move", "move")


def dragged_edges(edges: Edges, grab: tuple[str, str], dx: float, dy: float, minimum: float) -> Edges:
    """The edges after dragging the grabbed ones by (dx, dy), keeping at least `minimum` across."""
    left, top, right, bottom = edges
    horizontal, vertical = grab
    if horizontal == "left":
        left = min(left + dx, right - minimum)
    elif horizontal == "right":
        right = max(right + dx, left + minimum)
    if vertical == "top":
        top = min(top + dy, bottom - minimum)
    elif vertical == "bottom":
        bottom = max(bottom + dy, top + minimum)
    return left, top, right, bottom


def rect_edges(rect: Rect) -> Edges:
    return float(rect.x), float(rect.y), float(rect.right), float(rect.bottom)


class ToolHandler:
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, host: ToolHost) -> None:
        self.host = host

    def press(self, x: float, y: float, modifiers: Qt.KeyboardModifier, pressure: float = 1.0) -> None:
        pass

    def move(self, x: float, y: float, modifiers: Qt.KeyboardModifier, pressure: float = 1.0) -> None:
        pass

    def release(self, x: float, y: float, modifiers: Qt.KeyboardModifier) -> None:
        pass

    def cancel(self) -> None:
        pass

    def paint(self, painter: QPainter) -> None:
        pass


class PaintTool(ToolHandler):
    """Brush and eraser on the active layer, or on the mask."""

    def __init__(self, host: ToolHost, on_mask: bool) -> None:
        super().__init__(host)
        self.on_mask = on_mask
        self._stroke: Stroke | None = None

    def press(self, x: float, y: float, modifiers: Qt.KeyboardModifier, pressure: float = 1.0) -> None:
        brush = self.host.tool_settings.brush()
        try:
            if self.on_mask:
                self._stroke = self.host.document.begin_mask_stroke(brush)
            else:
                self._stroke = self.host.document.begin_stroke(brush)
        except BadInput as error:
            self.host.report(error.message)
            return
        self._stroke.add_point(x, y, pressure)

    def move(self, x: float, y: float, modifiers: Qt.KeyboardModifier, pressure: float = 1.0) -> None:
        if self._stroke is not None:
            self._stroke.add_point(x, y, pressure)

    def release(self, x: float, y: float, modifiers: Qt.KeyboardModifier) -> None:
        stroke, self._stroke = self._stroke, None
        if stroke is not None:
            stroke.end()

    def cancel(self) -> None:
        stroke, self._stroke = self._stroke, None
        if stroke is not None:
            stroke.cancel()


class MoveTool(ToolHandler):
    """Drag the active layer; it lands (one undo step) where the pointer is released."""

    cursor = Qt.CursorShape.SizeAllCursor

    def __init__(self, host: ToolHost) -> None:
        super().__init__(host)
        self._layer: Layer | None = None
        self._image: QImage | None = None
        self._start = (0.0, 0.0)
        self._offset = (0, 0)

    def press(self, x: float, y: float, modifiers: Qt.KeyboardModifier, pressure: float = 1.0) -> None:
        layer = self.host.document.active_layer
        if layer is None:
            self.host.report("There is no layer to move: add or select a layer first.")
            return
        if layer.locked:
            self.host.report(f"'{layer.name}' is locked: unlock it to move it.")
            return
        self._layer, self._start, self._offset = layer, (x, y), (0, 0)
        self._image = to_display_qimage(layer.pixels) if layer.pixels.size else None

    def move(self, x: float, y: float, modifiers: Qt.KeyboardModifier, pressure: float = 1.0) -> None:
        if self._layer is not None:
            self._offset = (round(x - self._start[0]), round(y - self._start[1]))
            self.host.refresh()

    def release(self, x: float, y: float, modifiers: Qt.KeyboardModifier) -> None:
        self.move(x, y, modifiers)
        layer, self._layer, self._image = self._layer, None, None
        if layer is not None:
            self.host.document.translate_layer(layer, *self._offset)
        self.host.refresh()

    def cancel(self) -> None:
        self._layer = self._image = None
        self.host.refresh()

    def paint(self, painter: QPainter) -> None:
        if self._layer is None:
            return
        rect = self._layer.rect.translated(*self._offset)
        target = widget_rect(self.host.viewport, rect.x, rect.y, rect.right, rect.bottom)
        if self._image is not None:
            painter.setOpacity(0.6)
            painter.drawImage(target, self._image)
            painter.setOpacity(1.0)
        draw_outline(painter, target, dashed=True)


class MaskRectangleTool(ToolHandler):
    """Drag a rectangle to add it to the mask (Alt: remove it from the mask)."""

    def __init__(self, host: ToolHost) -> None:
        super().__init__(host)
        self._start: tuple[float, float] | None = None
        self._end = (0.0, 0.0)

    def press(self, x: float, y: float, modifiers: Qt.KeyboardModifier, pressure: float = 1.0) -> None:
        self._start = self._end = (x, y)

    def move(self, x: float, y: float, modifiers: Qt.KeyboardModifier, pressure: float = 1.0) -> None:
        if self._start is not None:
            self._end = (x, y)
            self.host.refresh()

    def release(self, x: float, y: float, modifiers: Qt.KeyboardModifier) -> None:
        if self._start is None:
            return
        self._end = (x, y)
        rect = self._rect()
        self._start = None
        if not rect.is_empty():
            erase = bool(modifiers & Qt.KeyboardModifier.AltModifier)
            self.host.document.mask_rect(rect, erase=erase)
        self.host.refresh()

    def cancel(self) -> None:
        self._start = None
        self.host.refresh()

    def _rect(self) -> Rect:
        assert self._start is not None
        (x0, y0), (x1, y1) = self._start, self._end
        return Rect.from_edges(round(min(x0, x1)), round(min(y0, y1)), round(max(x0, x1)), round(max(y0, y1)))

    def paint(self, painter: QPainter) -> None:
        if self._start is not None:
            rect = self._rect()
            draw_outline(
                painter, widget_rect(self.host.viewport, rect.x, rect.y, rect.right, rect.bottom), True
            )


class PickerTool(ToolHandler):
    """Take the brush colour from what the canvas shows under the pointer."""

    def press(self, x: float, y: float, modifiers: Qt.KeyboardModifier, pressure: float = 1.0) -> None:
        self._pick(x, y)

    def move(self, x: float, y: float, modifiers: Qt.KeyboardModifier, pressure: float = 1.0) -> None:
        self._pick(x, y)

    def _pick(self, x: float, y: float) -> None:
        pixel = self.host.document.composite(Rect(math.floor(x), math.floor(y), 1, 1))[0, 0]
        if pixel[3] > 0:
            red, green, blue = (int(value) for value in np.asarray(pixel[:3]))
            self.host.tool_settings.set_colour((red, green, blue))


class FrameTool(ToolHandler):
    """Move the generation frame, drag its edges or corners to resize it, or drag out a new one.
    Positions and sizes snap to 8 pixels; the change is one undo step when the pointer is released."""

    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, host: ToolHost) -> None:
        super().__init__(host)
        self._grab: tuple[str, str] | None = None  # horizontal part, vertical part
        self._start = (0.0, 0.0)
        self._original = Frame()
        self.pending: Frame | None = None

    def press(self, x: float, y: float, modifiers: Qt.KeyboardModifier, pressure: float = 1.0) -> None:
        frame = self.host.document.frame
        self._original, self._start = frame, (x, y)
        self._grab = grab_at(rect_edges(frame.rect), x, y, FRAME_GRAB / self.host.viewport.scale)
        self.pending = frame

    def move(self, x: float, y: float, modifiers: Qt.KeyboardModifier, pressure: float = 1.0) -> None:
        if self._grab is None:
            return
        self.pending = self._dragged(x, y)
        self.host.refresh()

    def _dragged(self, x: float, y: float) -> Frame:
        frame = self._original
        dx, dy = x - self._start[0], y - self._start[1]
        horizontal, vertical = self._grab or ("", "")
        if horizontal == "move":
            return frame.moved_to(frame.x + dx, frame.y + dy)
        if horizontal == "new":
            (x0, y0), (x1, y1) = self._start, (x, y)
            left, top = min(x0, x1), min(y0, y1)
            return Frame(round(left), round(top), round(abs(x1 - x0)), round(abs(y1 - y0)))
        left, top, right, bottom = dragged_edges(rect_edges(frame.rect), (horizontal, vertical), dx, dy, 64)
        return Frame(round(left), round(top), round(right - left), round(bottom - top))

    def release(self, x: float, y: float, modifiers: Qt.KeyboardModifier) -> None:
        if self._grab is None:
            return
        frame = self._dragged(x, y)
        moved = abs(x - self._start[0]) + abs(y - self._start[1]) > 0
        label = "Move frame" if self._grab[0] == "move" else "Resize frame"
        self._grab, self.pending = None, None
        if moved:
            self.host.document.set_frame(frame, label)
        self.host.refresh()

    def cancel(self) -> None:
        self._grab, self.pending = None, None
        self.host.refresh()
