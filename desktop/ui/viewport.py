"""The mapping between canvas pixels and widget coordinates: a zoom and a pan, nothing else.

widget = (canvas - origin) * scale, where `origin` is the canvas point at the widget's top left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from sfumato.desktop.document import Rect

MIN_SCALE = 1 / 64
MAX_SCALE = 64.0
# Zoom steps of the keyboard and of each wheel notch: eight steps double the size.
ZOOM_STEP = 2 ** (1 / 4)


@dataclass(frozen=True)
class Viewport:
    scale: float = 1.0
    origin_x: float = 0.0
    origin_y: float = 0.0

    def to_widget(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.origin_x) * self.scale, (y - self.origin_y) * self.scale

    def to_canvas(self, x: float, y: float) -> tuple[float, float]:
        return x / self.scale + self.origin_x, y / self.scale + self.origin_y

    def visible(self, width: float, height: float) -> Rect:
        """The canvas pixels a widget of this size shows (partly shown pixels included)."""
        left, top = self.to_canvas(0, 0)
        right, bottom = self.to_canvas(width, height)
        return Rect.around(left, top, right, bottom)

    def zoomed(self, factor: float, anchor_x: float, anchor_y: float) -> Viewport:
        """Zoom by `factor` keeping the canvas point under the widget point (anchor) in place."""
        scale = min(max(self.scale * factor, MIN_SCALE), MAX_SCALE)
        canvas_x, canvas_y = self.to_canvas(anchor_x, anchor_y)
        return Viewport(scale, canvas_x - anchor_x / scale, canvas_y - anchor_y / scale)

    def panned(self, dx: float, dy: float) -> Viewport:
        """Move the picture by (dx, dy) widget units."""
        return replace(
            self, origin_x=self.origin_x - dx / self.scale, origin_y=self.origin_y - dy / self.scale
        )

    def centred_on(self, rect: Rect, width: float, height: float, scale: float | None = None) -> Viewport:
        scale = self.scale if scale is None else min(max(scale, MIN_SCALE), MAX_SCALE)
        centre_x, centre_y = rect.x + rect.width / 2, rect.y + rect.height / 2
        return Viewport(scale, centre_x - width / 2 / scale, centre_y - height / 2 / scale)

    @staticmethod
    def fitting(rect: Rect, width: float, height: float, margin: float = 24.0) -> Viewport:
        """The view showing all of `rect` as large as fits, centred."""
        room_w, room_h = max(width - 2 * margin, 1.0), max(height - 2 * margin, 1.0)
        scale = min(room_w / max(rect.width, 1), room_h / max(rect.height, 1))
        return Viewport().centred_on(rect, width, height, scale)

    def next_zoom_step(self, direction: int) -> float:
        """The factor to the next zoom stop (stops are powers of ZOOM_STEP, so 100 % is one)."""
        exponent = math.log(self.scale, ZOOM_STEP)
        target = math.floor(exponent + 1e-6) + 1 if direction > 0 else math.ceil(exponent - 1e-6) - 1
        return float(ZOOM_STEP**target / self.scale)
