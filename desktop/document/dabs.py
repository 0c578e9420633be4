"""Strokes made of round dabs placed along a path, on any raster (a layer or the mask).

A stroke keeps its own coverage (the most any dab covered each pixel, 0..1) and always computes
the new pixels from the state before the stroke. So overlapping dabs never build up beyond the
stroke's opacity: a 50 % stroke is 50 % everywhere, however slowly it was drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sfumato.desktop.document.geometry import EMPTY, Rect
from sfumato.desktop.document.patches import TILE, PatchRecorder, RasterPatch, tile_keys, tile_rect
from sfumato.desktop.document.raster import Raster

# (pixels before the stroke, coverage 0..1 float32 of the same height and width) -> new pixels.
ApplyFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


def dab(cx: float, cy: float, size: float, hardness: float) -> tuple[Rect, np.ndarray]:
    """Coverage (0..1) of a round dab of diameter `size` centred on canvas point (cx, cy).

    Fully covered up to the hard core, then a smooth fall-off to the rim; at hardness 1 the
    fall-off is a one-pixel antialiased edge.
    """
    radius = max(size, 0.0) / 2.0
    falloff = max(radius * (1.0 - hardness), 1.0)
    rim = radius + 0.5
    rect = Rect.around(cx - rim, cy - rim, cx + rim, cy + rim)
    xs = np.arange(rect.x, rect.right, dtype=np.float32) + np.float32(0.5 - cx)
    ys = np.arange(rect.y, rect.bottom, dtype=np.float32) + np.float32(0.5 - cy)
    distance = np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2)
    t = np.clip((rim - distance) / np.float32(falloff), 0.0, 1.0)
    return rect, (t * t * (3.0 - 2.0 * t)).astype(np.float32)


class DabStroke:
    """One stroke in progress: feed it points, then `finish` it into an undoable patch."""

    def __init__(
        self,
        raster: Raster,
        *,
        size: float,
        hardness: float,
        spacing: float,
        apply: ApplyFunction,
        grow: bool,
    ) -> None:
        if size <= 0:
            raise ValueError(f"brush size must be positive, got {size}")
        self.raster = raster
        self.size = size
        self.hardness = min(max(hardness, 0.0), 1.0)
        self.spacing = spacing
        self._apply = apply
        self._recorder = PatchRecorder(raster, grow=grow)
        self._coverage: dict[tuple[int, int], np.ndarray] = {}
        self._last: tuple[float, float, float] | None = None
        self._travelled = 0.0

    def add_point(self, x: float, y: float, pressure: float = 1.0) -> Rect:
        """Continue the stroke to (x, y); returns the canvas area that changed."""
        pressure = min(max(pressure, 0.0), 1.0)
        if self._last is None:
            self._last = (x, y, pressure)
            return self._stamp(x, y, pressure)
        x0, y0, p0 = self._last
        self._last = (x, y, pressure)
        length = math.hypot(x - x0, y - y0)
        step = max(1.0, self.spacing * self.size * max(p0, pressure))
        dirty = EMPTY
        distance = step - self._travelled
        while distance <= length:
            t = distance / length
            dirty = dirty.union(self._stamp(x0 + t * (x - x0), y0 + t * (y - y0), p0 + t * (pressure - p0)))
            distance += step
        self._travelled = length - (distance - step)
        return dirty

    def finish(self) -> RasterPatch | None:
        return self._recorder.finish()

    def _stamp(self, cx: float, cy: float, pressure: float) -> Rect:
        if pressure <= 0.0:
            return EMPTY
        dab_rect, coverage = dab(cx, cy, self.size * pressure, self.hardness)
        area = self._recorder.touch(dab_rect)
        for key in tile_keys(area):
            tile = tile_rect(key)
            part = tile.intersect(area)
            in_tile = part.slices(tile.x, tile.y)
            tile_coverage = self._coverage.get(key)
            if tile_coverage is None:
                tile_coverage = self._coverage[key] = np.zeros((TILE, TILE), dtype=np.float32)
            covered = tile_coverage[in_tile]
            np.maximum(covered, coverage[part.slices(dab_rect.x, dab_rect.y)], out=covered)
            before = self._recorder.before_tiles[key][in_tile]
            self.raster.write(part, self._apply(before, covered))
        return area
