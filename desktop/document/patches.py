"""Record the pixels an edit changes as one bounding-box patch (before and after), for undo.

An edit announces each area just before it modifies it (`touch`). The first time a tile of the
canvas is touched its current pixels are kept, so however many times a stroke passes over the
same spot, the "before" is the state from before the whole edit. `finish` trims the result to
the pixels that really changed; the raster's extent is restored exactly on undo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sfumato.desktop.document.geometry import EMPTY, Rect
from sfumato.desktop.document.raster import Raster

TILE = 64

TileKey = tuple[int, int]


@dataclass(frozen=True, eq=False)
class RasterPatch:
    """The pixels of `rect` before and after an edit, and the raster's extent around it."""

    raster: Raster
    rect: Rect
    before: np.ndarray
    after: np.ndarray
    extent_before: Rect
    extent_after: Rect

    @property
    def nbytes(self) -> int:
        return int(self.before.nbytes + self.after.nbytes)

    def revert(self) -> None:
        self.raster.write(self.rect, self.before)
        self.raster.reshape_to(self.extent_before)

    def apply(self) -> None:
        self.raster.reshape_to(self.extent_after)
        self.raster.write(self.rect, self.after)


def tile_keys(rect: Rect) -> list[TileKey]:
    if rect.is_empty():
        return []
    return [
        (tx, ty)
        for ty in range(rect.y // TILE, (rect.bottom - 1) // TILE + 1)
        for tx in range(rect.x // TILE, (rect.right - 1) // TILE + 1)
    ]


def tile_rect(key: TileKey) -> Rect:
    return Rect(key[0] * TILE, key[1] * TILE, TILE, TILE)


class PatchRecorder:
    def __init__(self, raster: Raster, *, grow: bool) -> None:
        self.raster = raster
        self.grow = grow
        self.extent_before = raster.rect
        self.touched = EMPTY
        self.before_tiles: dict[TileKey, np.ndarray] = {}

    def touch(self, rect: Rect) -> Rect:
        """Announce that `rect` is about to change; returns the part of it that may change.

        A growing recorder enlarges the raster to cover `rect`; otherwise the rect is clipped to it.
        """
        rect = rect if self.grow else rect.intersect(self.raster.rect)
        if rect.is_empty():
            return rect
        for key in tile_keys(rect):
            if key not in self.before_tiles:
                self.before_tiles[key] = self.raster.read(tile_rect(key))
        if self.grow:
            self.raster.grow_to_cover(rect)
        self.touched = self.touched.union(rect)
        return rect

    def before(self, rect: Rect) -> np.ndarray:
        """The pixels of `rect` as they were before the edit began."""
        out = self.raster.read(rect)
        for key in tile_keys(rect):
            tile = self.before_tiles.get(key)
            if tile is None:
                continue
            source = tile_rect(key)
            part = source.intersect(rect)
            out[part.slices(rect.x, rect.y)] = tile[part.slices(source.x, source.y)]
        return out

    def finish(self) -> RasterPatch | None:
        """The patch of what changed, or None (with the raster as it was) when nothing did."""
        changed = EMPTY
        before = after = self.raster.blank(EMPTY)
        if not self.touched.is_empty():
            before = self.before(self.touched)
            after = self.raster.read(self.touched)
            changed = _changed_rect(before, after).translated(self.touched.x, self.touched.y)
        if changed.is_empty():
            self.raster.reshape_to(self.extent_before)
            return None
        extent_after = self.extent_before.union(changed) if self.grow else self.extent_before
        self.raster.reshape_to(extent_after)
        rows, cols = changed.slices(self.touched.x, self.touched.y)
        return RasterPatch(
            raster=self.raster,
            rect=changed,
            before=before[rows, cols].copy(),
            after=after[rows, cols].copy(),
            extent_before=self.extent_before,
            extent_after=extent_after,
        )


def _changed_rect(before: np.ndarray, after: np.ndarray) -> Rect:
    diff = before != after
    if diff.ndim == 3:
        diff = diff.any(axis=2)
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return EMPTY
    cols = np.flatnonzero(diff[rows[0] : rows[-1] + 1].any(axis=0))
    return Rect.from_edges(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
