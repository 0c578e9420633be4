"""Cached, ready-to-draw images of the canvas in square tiles, at several levels of detail.

Level 0 tiles show canvas pixels 1:1. A tile of level n covers the area of four tiles of level
n-1 at the same image size and is made from them (averaged in premultiplied alpha), so a
zoomed-out view draws a handful of small images and never composites a huge area at once.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterator

import numpy as np
from PySide6.QtGui import QImage

from sfumato.desktop.document import Rect
from sfumato.desktop.ui.qimage import to_display_qimage

TILE = 256
MAX_LEVEL = 5
DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024

TileKey = tuple[int, int, int]  # level, column, row
# Straight-alpha RGBA pixels of a canvas rectangle, or None when nothing shows there.
RenderFunction = Callable[[Rect], np.ndarray | None]


def level_for(device_scale: float) -> int:
    """The coarsest level that still gives at least one tile pixel per screen pixel."""
    if device_scale >= 1.0:
        return 0
    return min(MAX_LEVEL, max(0, math.floor(math.log2(1.0 / device_scale))))


def tile_rect(key: TileKey) -> Rect:
    level, column, row = key
    span = TILE << level
    return Rect(column * span, row * span, span, span)


def tiles_covering(rect: Rect, level: int) -> Iterator[TileKey]:
    span = TILE << level
    for row in range(rect.y // span, -((-rect.bottom) // span)):
        for column in range(rect.x // span, -((-rect.right) // span)):
            yield level, column, row


def _premultiplied_pixels(image: QImage) -> np.ndarray:
    """The (TILE, TILE, 4) premultiplied pixels of a cached tile image."""
    stride = image.bytesPerLine()
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * image.height())
    return buffer.reshape(image.height(), stride)[:, : image.width() * 4].reshape(image.height(), -1, 4)


def _halve(pixels: np.ndarray) -> np.ndarray:
    height, width = pixels.shape[:2]
    blocks = pixels.reshape(height // 2, 2, width // 2, 2, 4).sum(axis=(1, 3), dtype=np.uint16)
    return ((blocks + 2) // 4).astype(np.uint8)


class TileCache:
    def __init__(self, render: RenderFunction, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self._render = render
        self._budget = budget_bytes
        self._tiles: OrderedDict[TileKey, QImage | None] = OrderedDict()
        self._bytes = 0

    def tile(self, key: TileKey) -> QImage | None:
        if key in self._tiles:
            self._tiles.move_to_end(key)
            return self._tiles[key]
        image = self._make(key)
        self._tiles[key] = image
        self._bytes += _size(image)
        while self._bytes > self._budget and len(self._tiles) > 1:
            _key, dropped = self._tiles.popitem(last=False)
            self._bytes -= _size(dropped)
        return image

    def _make(self, key: TileKey) -> QImage | None:
        level, column, row = key
        if level == 0:
            pixels = self._render(tile_rect(key))
            return None if pixels is None else to_display_qimage(pixels)
        children = {
            (dx, dy): self.tile((level - 1, column * 2 + dx, row * 2 + dy)) for dy in (0, 1) for dx in (0, 1)
        }
        if all(child is None for child in children.values()):
            return None
        joined = np.zeros((TILE * 2, TILE * 2, 4), dtype=np.uint8)
        for (dx, dy), child in children.items():
            if child is not None:
                joined[dy * TILE : (dy + 1) * TILE, dx * TILE : (dx + 1) * TILE] = _premultiplied_pixels(
                    child
                )
        half = np.ascontiguousarray(_halve(joined))
        image = QImage(half.data, TILE, TILE, TILE * 4, QImage.Format.Format_RGBA8888_Premultiplied)
        return image.copy()

    def invalidate(self, rect: Rect) -> None:
        for key in [key for key in self._tiles if tile_rect(key).intersects(rect)]:
            self._bytes -= _size(self._tiles.pop(key))

    def clear(self) -> None:
        self._tiles.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._tiles)


def _size(image: QImage | None) -> int:
    return 0 if image is None else int(image.sizeInBytes())
