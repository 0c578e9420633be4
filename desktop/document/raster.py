"""A pixel array placed at an integer offset on the infinite canvas.

Layers (RGBA) and the mask (one channel) are both rasters: they cover only the area that holds
pixels and grow when painted beyond their edge. Everything outside reads as zero (transparent).
"""

from __future__ import annotations

import numpy as np

from sfumato.desktop.document.geometry import Rect

# Growing by whole blocks keeps a stroke that wanders outwards from reallocating on every dab.
GROW_STEP = 256


class Raster:
    def __init__(self, pixels: np.ndarray, x: int = 0, y: int = 0) -> None:
        self.pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
        self.x = int(x)
        self.y = int(y)

    @property
    def channel_shape(self) -> tuple[int, ...]:
        """The shape of one pixel: () for a single channel, (4,) for RGBA."""
        return tuple(self.pixels.shape[2:])

    @property
    def rect(self) -> Rect:
        height, width = self.pixels.shape[:2]
        return Rect(self.x, self.y, width, height)

    @property
    def nbytes(self) -> int:
        return int(self.pixels.nbytes)

    def blank(self, rect: Rect) -> np.ndarray:
        return np.zeros((rect.height, rect.width, *self.channel_shape), dtype=np.uint8)

    def view(self, rect: Rect) -> np.ndarray:
        """A writable view of a rectangle that lies inside the raster."""
        if not self.rect.contains(rect):
            raise ValueError(f"{rect} is outside the raster {self.rect}")
        rows, cols = rect.slices(self.x, self.y)
        return self.pixels[rows, cols]

    def read(self, rect: Rect) -> np.ndarray:
        """A copy of any canvas rectangle; zero where the raster has no pixels."""
        out = self.blank(rect)
        inside = rect.intersect(self.rect)
        if not inside.is_empty():
            out[inside.slices(rect.x, rect.y)] = self.view(inside)
        return out

    def write(self, rect: Rect, data: np.ndarray) -> None:
        self.view(rect)[...] = data

    def reshape_to(self, rect: Rect) -> None:
        """Make the raster cover exactly `rect`, keeping the pixels that stay inside it."""
        if rect == self.rect:
            return
        self.pixels = self.read(rect)
        self.x, self.y = rect.x, rect.y

    def grow_to_cover(self, rect: Rect) -> None:
        if rect.is_empty() or self.rect.contains(rect):
            return
        wanted = self.rect.union(rect)
        if self.rect.is_empty():
            self.reshape_to(wanted)
            return
        # Round outward to the grow step so the next few dabs fit without another copy.
        left = min(self.x, _floor_to(wanted.x, GROW_STEP))
        top = min(self.y, _floor_to(wanted.y, GROW_STEP))
        right = max(self.rect.right, _ceil_to(wanted.right, GROW_STEP))
        bottom = max(self.rect.bottom, _ceil_to(wanted.bottom, GROW_STEP))
        self.reshape_to(Rect.from_edges(left, top, right, bottom))

    def content_rect(self) -> Rect:
        """The bounding box of the non-zero pixels (for RGBA: of the non-transparent ones)."""
        coverage = self.pixels[..., 3] if self.pixels.ndim == 3 else self.pixels
        if coverage.size == 0:
            return Rect(self.x, self.y, 0, 0)
        rows = np.flatnonzero(coverage.any(axis=1))
        if rows.size == 0:
            return Rect(self.x, self.y, 0, 0)
        cols = np.flatnonzero(coverage[rows[0] : rows[-1] + 1].any(axis=0))
        return Rect.from_edges(
            self.x + int(cols[0]),
            self.y + int(rows[0]),
            self.x + int(cols[-1]) + 1,
            self.y + int(rows[-1]) + 1,
        )


def _floor_to(value: int, step: int) -> int:
    return (value // step) * step


def _ceil_to(value: int, step: int) -> int:
    return -((-value) // step) * step
