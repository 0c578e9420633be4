"""The infinite canvas: draws the visible part of the composited document, the mask as a tinted
overlay and the generation frame (with the live preview or a candidate inside it), and turns
pointer input into pan, zoom and tool gestures.

Pan: space-drag, middle-drag or a trackpad scroll. Zoom: mouse wheel, pinch, or the view actions.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QTabletEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from sfumato.desktop.document import (
    Change,
    Document,
    Frame,
    FrameChanged,
    MaskChanged,
    PixelsChanged,
    Rect,
)
from sfumato.desktop.ui.canvas_tools import (
    FrameTool,
    ToolHandler,
    draw_handles,
    draw_outline,
    on_screen,
    widget_rect,
)
from sfumato.desktop.ui.document_host import DocumentHost
from sfumato.desktop.ui.qimage import to_qimage
from sfumato.desktop.ui.selection import Selection
from sfumato.desktop.ui.tiles import TileCache, level_for, tile_rect, tiles_covering
from sfumato.desktop.ui.tool_factory import make_tool
from sfumato.desktop.ui.tool_settings import Tool, ToolSettings
from sfumato.desktop.ui.viewport import ZOOM_STEP, Viewport

BACKGROUND = QColor(38, 38, 38)
MASK_COLOUR = (200, 70, 90)
MASK_OPACITY = 0.45
FRAME_LABEL = QColor(200, 200, 200)
CHECKER, CHECKER_LIGHT, CHECKER_DARK = 8, QColor(204, 204, 204), QColor(168, 168, 168)
# Above this many screen pixels per canvas pixel the pixels are drawn as crisp squares.
SMOOTH_LIMIT = 2.0


class CanvasView(QWidget):
    zoom_changed = Signal(float)  # screen pixels per canvas pixel (1.0 = 100 %)
    pointer_moved = Signal(int, int)  # canvas pixel under the pointer
    message = Signal(str)

    def __init__(self, host: DocumentHost, tools: ToolSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAcceptDrops(False)  # the main window takes dropped files
        self._host = host
        self._tools = tools
        self._viewport = Viewport()
        self._pixels = TileCache(self._render_pixels)
        self._mask = TileCache(self._render_mask)
        self._handler: ToolHandler = make_tool(tools.tool, self)
        self._active_tool = tools.tool
        self._panning: QPointF | None = None
        self._space_held = False
        self._drawing = False
        self._pointer: QPointF | None = None
        self._frame_image: QImage | None = None
        self._frame_image_rect: Rect | None = None
        self._fit_pending = True
        self._selection = Selection(self)
        self._selection.changed.connect(self.update)
        self.mask_shown = True
        self._checkers = _checkerboard()
        host.changed.connect(self._on_change)
        host.replaced.connect(self._on_replaced)
        tools.changed.connect(self._on_tools_changed)
        self._on_tools_changed()

    # ---- what tools see ------------------------------------------------------------------------

    @property
    def document(self) -> Document:
        return self._host.document

    @property
    def tool_settings(self) -> ToolSettings:
        return self._tools

    @property
    def viewport(self) -> Viewport:
        return self._viewport

    @property
    def selection(self) -> Selection:
        return self._selection

    def refresh(self) -> None:
        self.update()

    def report(self, message: str) -> None:
        self.message.emit(message)

    # ---- view ----------------------------------------------------------------------------------

    def set_viewport(self, viewport: Viewport) -> None:
        changed_scale = viewport.scale != self._viewport.scale
        self._viewport = viewport
        self._fit_pending = False
        self.update()
        if changed_scale:
            self.zoom_changed.emit(self.zoom)

    @property
    def zoom(self) -> float:
        """Screen pixels per canvas pixel, counting the display's scale factor (1.0 is 100 %)."""
        return self._viewport.scale * self.devicePixelRatioF()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        point = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        self.set_viewport(self._viewport.zoomed(factor, point.x(), point.y()))

    def zoom_in(self) -> None:
        self.zoom_by(self._viewport.next_zoom_step(+1))

    def zoom_out(self) -> None:
        self.zoom_by(self._viewport.next_zoom_step(-1))

    def actual_pixels(self) -> None:
        """100 %: one canvas pixel per screen pixel, keeping the centre in place."""
        self.zoom_by(1.0 / self.zoom)

    def fit(self) -> None:
        """Show every layer and the frame."""
        area = self.document.frame.rect
        for layer in self.document.layers:
            area = area.union(layer.rect)
        self.set_viewport(Viewport.fitting(area, max(self.width(), 1), max(self.height(), 1)))

    def visible_rect(self) -> Rect:
        return self._viewport.visible(self.width(), self.height())

    def set_frame_image(self, pixels: np.ndarray | None, rect: Rect | None = None) -> None:
        """Show `pixels` stretched over `rect` (default: the frame): a live preview or a candidate."""
        self._frame_image = None if pixels is None else to_qimage(pixels)
        self._frame_image_rect = rect
        self.update()

    @property
    def busy(self) -> bool:
        """Whether a gesture (a stroke, a drag) is in progress."""
        return self._drawing

    def cancel_gesture(self) -> bool:
        """Drop the gesture in progress, undoing what it did; returns whether there was one."""
        if not self._drawing:
            return False
        self._drawing = False
        self._handler.cancel()
        return True

    def show_mask(self, shown: bool) -> None:
        """Show or hide the mask's tint (the mask itself stays and still guides inpainting)."""
        self.mask_shown = shown
        self.update()

    @property
    def frame_image_shown(self) -> bool:
        return self._frame_image is not None

    # ---- document changes ----------------------------------------------------------------------

    def _render_pixels(self, rect: Rect) -> np.ndarray | None:
        pixels = self.document.composite(rect)
        return pixels if pixels[..., 3].any() else None

    def _render_mask(self, rect: Rect) -> np.ndarray | None:
        coverage = self.document.mask.read(rect)
        if not coverage.any():
            return None
        return _tinted(coverage)

    def _on_change(self, change: Change) -> None:
        match change:
            case PixelsChanged(rect):
                self._pixels.invalidate(rect)
                self._update_canvas_rect(rect)
            case MaskChanged(rect):
                self._mask.invalidate(rect)
                self._update_canvas_rect(rect)
            case FrameChanged():
                self.update()

    def _on_replaced(self, _document: Document) -> None:
        if self._drawing:
            self._handler.cancel()
            self._drawing = False
        self._pixels.clear()
        self._mask.clear()
        self._selection.clear()
        self._frame_image = None
        self._fit_pending = True
        QTimer.singleShot(0, self._fit_if_pending)
        self.update()

    def _fit_if_pending(self) -> None:
        if self._fit_pending and self.width() > 1:
            self.fit()

    def _update_canvas_rect(self, rect: Rect) -> None:
        area = widget_rect(self._viewport, rect.x, rect.y, rect.right, rect.bottom)
        self.update(area.toAlignedRect().adjusted(-2, -2, 2, 2))

    def _on_tools_changed(self) -> None:
        if self._tools.tool is not self._active_tool:
            if self._drawing:
                self._handler.cancel()
                self._drawing = False
            self._active_tool = self._tools.tool
            self._handler = make_tool(self._active_tool, self)
        self._update_cursor()
        self.update()

    # ---- painting ------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), BACKGROUND)
        exposed = event.rect()
        visible = self._viewport.visible(self.width(), self.height()).intersect(
            Rect.around(*self._viewport.to_canvas(exposed.left(), exposed.top()),
                        *self._viewport.to_canvas(exposed.right() + 1, exposed.bottom() + 1))
        )  # fmt: skip
        device_scale = self._viewport.scale * self.devicePixelRatioF()
        smooth = device_scale < SMOOTH_LIMIT
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        level = level_for(device_scale)
        extent = Rect(0, 0, 0, 0)
        for layer in self.document.layers:
            if layer.visible:
                extent = extent.union(layer.rect)
        self._draw_paper(painter, extent.union(self.document.frame.rect))
        self._draw_tiles(painter, self._pixels, visible.intersect(extent), level)
        if self.mask_shown:
            self._draw_tiles(painter, self._mask, visible.intersect(self.document.mask.rect), level)
        self._draw_frame(painter)
        self._draw_selection(painter)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._handler.paint(painter)
        self._draw_brush_outline(painter)
        painter.end()

    def _draw_paper(self, painter: QPainter, area: Rect) -> None:
        """A checkerboard under the picture and the frame, so transparent parts read as transparent."""
        if not area.is_empty():
            target = widget_rect(self._viewport, area.x, area.y, area.right, area.bottom)
            painter.fillRect(target, QBrush(self._checkers))

    def _draw_tiles(self, painter: QPainter, cache: TileCache, area: Rect, level: int) -> None:
        if area.is_empty():
            return
        ratio = self.devicePixelRatioF()
        for key in tiles_covering(area, level):
            image = cache.tile(key)
            if image is not None:
                painter.drawImage(self._device_aligned(tile_rect(key), ratio), image)

    def _device_aligned(self, rect: Rect, ratio: float) -> QRectF:
        """The widget rectangle of `rect` with edges on whole device pixels, so tiles meet without seams."""
        x0, y0 = self._viewport.to_widget(rect.x, rect.y)
        x1, y1 = self._viewport.to_widget(rect.right, rect.bottom)
        left, top = round(x0 * ratio) / ratio, round(y0 * ratio) / ratio
        right, bottom = round(x1 * ratio) / ratio, round(y1 * ratio) / ratio
        return QRectF(left, top, right - left, bottom - top)

    def _draw_frame(self, painter: QPainter) -> None:
        pending = self._handler.pending if isinstance(self._handler, FrameTool) else None
        frame: Frame = pending or self.document.frame
        target = widget_rect(self._viewport, frame.x, frame.y, frame.x + frame.width, frame.y + frame.height)
        if self._frame_image is not None:
            image_rect = self._frame_image_rect or frame.rect
            painter.drawImage(self._device_aligned(image_rect, self.devicePixelRatioF()), self._frame_image)
        draw_outline(painter, target, dashed=True)
        if self._active_tool is Tool.FRAME:
            draw_handles(painter, target)
        painter.setPen(FRAME_LABEL)
        painter.drawText(target.topLeft() + QPointF(0, -6), f"{frame.width} × {frame.height}")

    def _draw_selection(self, painter: QPainter) -> None:
        rect = self._selection.rect
        if rect is not None:
            draw_outline(painter, on_screen(self._viewport, rect), dashed=True)

    def _draw_brush_outline(self, painter: QPainter) -> None:
        if self._pointer is None or not self._active_tool.paints or self._panning is not None:
            return
        radius = self._tools.size * self._viewport.scale / 2
        if radius < 2:
            return
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for colour, width in ((QColor(0, 0, 0, 150), 2.5), (QColor(240, 240, 240, 220), 1.0)):
            painter.setPen(QPen(colour, width))
            painter.drawEllipse(self._pointer, radius, radius)

    # ---- input ---------------------------------------------------------------------------------

    def _canvas_point(self, position: QPointF) -> tuple[float, float]:
        return self._viewport.to_canvas(position.x(), position.y())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_held
        ):
            self._panning = event.position()
            self._update_cursor()
        elif event.button() == Qt.MouseButton.LeftButton and not self._drawing:
            self._drawing = True
            self._handler.press(*self._canvas_point(event.position()), event.modifiers())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        position = event.position()
        if self._panning is not None:
            delta = position - self._panning
            self._panning = position
            self.set_viewport(self._viewport.panned(delta.x(), delta.y()))
        elif self._drawing:
            self._handler.move(*self._canvas_point(position), event.modifiers())
        self._track_pointer(position)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._panning is not None and event.button() in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            self._panning = None
            self._update_cursor()
        elif event.button() == Qt.MouseButton.LeftButton and self._drawing:
            self._drawing = False
            self._handler.release(*self._canvas_point(event.position()), event.modifiers())
        event.accept()

    def tabletEvent(self, event: QTabletEvent) -> None:
        """Pen input carries pressure; everything but painting goes through the mouse events."""
        if not self._active_tool.paints or self._space_held or self._panning is not None:
            event.ignore()
            return
        point = self._canvas_point(event.position())
        pressure = float(event.pressure())
        kind = event.type()
        if kind == QEvent.Type.TabletPress and not self._drawing:
            self._drawing = True
            self._handler.press(*point, event.modifiers(), pressure)
        elif kind == QEvent.Type.TabletMove and self._drawing:
            self._handler.move(*point, event.modifiers(), pressure)
        elif kind == QEvent.Type.TabletRelease and self._drawing:
            self._drawing = False
            self._handler.release(*point, event.modifiers())
        self._track_pointer(event.position())
        event.accept()

    def _track_pointer(self, position: QPointF) -> None:
        previous, self._pointer = self._pointer, position
        x, y = self._canvas_point(position)
        self.pointer_moved.emit(math.floor(x), math.floor(y))
        if self._active_tool.paints:
            for point in (previous, position):
                if point is not None:
                    self.update(self._brush_outline_area(point))

    def _brush_outline_area(self, point: QPointF) -> QRect:
        reach = self._tools.size * self._viewport.scale / 2 + 3
        return QRectF(point.x() - reach, point.y() - reach, 2 * reach, 2 * reach).toAlignedRect()

    def leaveEvent(self, event: QEvent) -> None:
        self._pointer = None
        self.update()
        super().leaveEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        pixels = event.pixelDelta()
        if not pixels.isNull() and not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.set_viewport(self._viewport.panned(pixels.x(), pixels.y()))  # trackpad scroll
        else:
            notches = event.angleDelta().y() / 120
            if notches:
                self.zoom_by(ZOOM_STEP**notches, event.position())
        event.accept()

    def event(self, event: QEvent) -> bool:
        if (
            isinstance(event, QNativeGestureEvent)
            and event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture
        ):
            self.zoom_by(1.0 + event.value(), event.position())
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self._update_cursor()
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self._update_cursor()
        else:
            super().keyReleaseEvent(event)

    def focusOutEvent(self, event: object) -> None:
        self._space_held = False
        self._update_cursor()

    def _update_cursor(self) -> None:
        if self._panning is not None:
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif self._space_held:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.setCursor(self._handler.cursor)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_if_pending()


def _checkerboard() -> QPixmap:
    """Two squares of each grey, CHECKER screen pixels each: the pattern under transparency."""
    pixmap = QPixmap(2 * CHECKER, 2 * CHECKER)
    pixmap.fill(CHECKER_LIGHT)
    painter = QPainter(pixmap)
    painter.fillRect(0, 0, CHECKER, CHECKER, CHECKER_DARK)
    painter.fillRect(CHECKER, CHECKER, CHECKER, CHECKER, CHECKER_DARK)
    painter.end()
    return pixmap


def _tinted(coverage: np.ndarray) -> np.ndarray:
    """The mask colour, as opaque as the mask is strong (times MASK_OPACITY), as straight RGBA."""
    rgba = np.empty((*coverage.shape, 4), dtype=np.uint8)
    rgba[..., :3] = MASK_COLOUR
    rgba[..., 3] = np.round(coverage.astype(np.float32) * MASK_OPACITY).astype(np.uint8)
    return rgba
