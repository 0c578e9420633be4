"""The Select tool: drag out a rectangle; drag inside it to move the active layer's pixels there,
drag a handle to scale them. Each move or scale is one undo step when the pointer is released; a
click outside the selection drops it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter

from sfumato.core.api import BadInput
from sfumato.desktop.document import Rect
from sfumato.desktop.ui.canvas_tools import (
    FRAME_GRAB,
    ToolHandler,
    ToolHost,
    dragged_edges,
    draw_handles,
    draw_outline,
    grab_at,
    on_screen,
    rect_edges,
)
from sfumato.desktop.ui.qimage import to_display_qimage


class SelectTool(ToolHandler):
    def __init__(self, host: ToolHost) -> None:
        super().__init__(host)
        self._grab: tuple[str, str] | None = None
        self._start = (0.0, 0.0)
        self._original: Rect | None = None
        self._lifted: QImage | None = None  # the pixels being moved or scaled, drawn where they go
        self.pending: Rect | None = None

    def press(self, x: float, y: float, modifiers: Qt.KeyboardModifier, pressure: float = 1.0) -> None:
        selected = self.host.selection.rect
        reach = FRAME_GRAB / self.host.viewport.scale
        self._grab = grab_at(rect_edges(selected), x, y, reach) if selected else ("new", "new")
        self._start, self._original, self.pending = (x, y), selected, selected
        if self._grab[0] != "new" and selected is not None:
            layer = self.host.document.active_layer
            if layer is None or layer.locked:
                self.host.report(
                    "Select a layer to move its pixels." if layer is None else f"'{layer.name}' is locked."
                )
                self._grab = None
                return
            self._lifted = to_display_qimage(layer.read(selected))

    def move(self, x: float, y: float, modifiers: Qt.KeyboardModifier, pressure: float = 1.0) -> None:
        if self._grab is not None:
            self.pending = self._dragged(x, y)
            self.host.refresh()

    def _dragged(self, x: float, y: float) -> Rect | None:
        (x0, y0), grab = self._start, self._grab or ("", "")
        if grab[0] == "new":
            return Rect.from_edges(round(min(x0, x)), round(min(y0, y)), round(max(x0, x)), round(max(y0, y)))
        original = self._original
        assert original is not None
        if grab[0] == "move":
            return original.translated(round(x - x0), round(y - y0))
        left, top, right, bottom = dragged_edges(rect_edges(original), grab, x - x0, y - y0, 1)
        return Rect.from_edges(round(left), round(top), round(right), round(bottom))

    def release(self, x: float, y: float, modifiers: Qt.KeyboardModifier) -> None:
        if self._grab is None:
            return
        target, original, grab = self._dragged(x, y), self._original, self._grab
        self.cancel()
        selection = self.host.selection
        if grab[0] == "new":
            selection.set(target)  # a click without a drag is empty: it drops the selection
        elif original is not None and target is not None and target != original:
            try:
                self.host.document.transform_pixels(original, target)
            except BadInput as error:
                self.host.report(error.message)
                return
            selection.set(target)

    def cancel(self) -> None:
        self._grab, self._lifted, self.pending = None, None, None
        self.host.refresh()

    def paint(self, painter: QPainter) -> None:
        """The canvas outlines the selection; this adds its handles, or what a drag makes of it."""
        viewport = self.host.viewport
        if self._grab is None:
            selected = self.host.selection.rect
            if selected is not None:
                draw_handles(painter, on_screen(viewport, selected))
            return
        if self.pending is None:
            return
        target = on_screen(viewport, self.pending)
        if self._lifted is not None and not self._lifted.isNull():
            painter.drawImage(target, self._lifted)
        draw_outline(painter, target, dashed=True)
