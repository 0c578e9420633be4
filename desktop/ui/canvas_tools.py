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
from sfumato.desktop.ui.tool_settings import Tool, ToolSettings
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

    def refresh(self) -> None: ...

    def report(self, message: str) -> None: ...


def widget_rect(viewport: Viewport, left: float, top: float, right: float, bottom: float) -> QRectF:
    x0, y0 = viewport.to_widget(left, top)
    x1, y1 = viewport.to_widget(right, bottom)
    return QRectF(QPointF(x0, y0), QPointF(x1, y1))


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
        self._grab = self._grab_at(frame, x, y)
        self.pending = frame

    def _grab_at(self, frame: Frame, x: float, y: float) -> tuple[str, str]:
        reach = FRAME_GRAB / self.host.viewport.scale
        left, top, right, bottom = frame.x, frame.y, frame.x + frame.width, frame.y + frame.height
        if not (left - reach <= x <= right + reach and top - reach <= y <= bottom + reach):
            return "new", "new"
        horizontal = "left" if abs(x - left) <= reach else "right" if abs(x - right) <= reach else ""
        vertical = "top" if abs(y - top) <= reach else "bottom" if abs(y - bottom) <= reach else ""
        return (horizontal, vertical) if horizontal or vertical else ("move", "move")

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
        left, top = float(frame.x), float(frame.y)
        right, bottom = left + frame.width, top + frame.height
        if horizontal == "left":
            left = min(left + dx, right - 64)
        elif horizontal == "right":
            right = max(right + dx, left + 64)
        if vertical == "top":
            top = min(top + dy, bottom - 64)
        elif vertical == "bottom":
            bottom = max(bottom + dy, top + 64)
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


def make_tool(tool: Tool, host: ToolHost) -> ToolHandler:
    match tool:
        case Tool.BRUSH | Tool.ERASER:
            return PaintTool(host, on_mask=False)
        case Tool.MASK_BRUSH | Tool.MASK_ERASER:
            return PaintTool(host, on_mask=True)
        case Tool.MOVE:
            return MoveTool(host)
        case Tool.MASK_RECTANGLE:
            return MaskRectangleTool(host)
        case Tool.PICKER:
            return PickerTool(host)
        case Tool.FRAME:
            return FrameTool(host)
    raise ValueError(f"unknown tool {tool!r}")
