"""The document's mask: one uint8 channel on the infinite canvas, 255 = repaint.

Every edit returns a `RasterPatch` (or None when nothing changed) so it can be undone.
"""

from __future__ import annotations

import numpy as np

from sfumato.desktop.document.brush import Brush
from sfumato.desktop.document.dabs import ApplyFunction, DabStroke
from sfumato.desktop.document.geometry import Rect
from sfumato.desktop.document.patches import PatchRecorder, RasterPatch
from sfumato.desktop.document.raster import Raster


class Mask(Raster):
    def __init__(self, pixels: np.ndarray | None = None, x: int = 0, y: int = 0) -> None:
        pixels = np.zeros((0, 0), dtype=np.uint8) if pixels is None else pixels
        if pixels.ndim != 2 or pixels.dtype != np.uint8:
            raise ValueError(f"mask pixels must be uint8 (H, W), got {pixels.dtype} {pixels.shape}")
        super().__init__(pixels, x, y)

    def any_in(self, rect: Rect) -> bool:
        inside = rect.intersect(self.rect)
        return not inside.is_empty() and bool(self.view(inside).any())


def _add(opacity: float) -> ApplyFunction:
    def apply(before: np.ndarray, coverage: np.ndarray) -> np.ndarray:
        painted = np.rint(coverage * np.float32(255.0 * opacity)).astype(np.uint8)
        return np.maximum(before, painted)

    return apply


def _remove(opacity: float) -> ApplyFunction:
    def apply(before: np.ndarray, coverage: np.ndarray) -> np.ndarray:
        return np.rint(before * (1.0 - coverage * np.float32(opacity))).astype(np.uint8)

    return apply


def mask_stroke(mask: Mask, brush: Brush) -> DabStroke:
    """Paint the mask with the brush's size, hardness and opacity (its colour is ignored);
    an eraser brush removes mask instead."""
    return DabStroke(
        mask,
        size=brush.size,
        hardness=brush.hardness,
        spacing=brush.spacing,
        apply=_remove(brush.opacity) if brush.eraser else _add(brush.opacity),
        grow=not brush.eraser,
    )


def fill_rect(mask: Mask, rect: Rect, value: int = 255) -> RasterPatch | None:
    """Set every mask pixel of `rect` to `value` (255 adds the rectangle, 0 removes it)."""
    recorder = PatchRecorder(mask, grow=value != 0)
    area = recorder.touch(rect)
    if not area.is_empty():
        mask.view(area)[...] = value
    return recorder.finish()


def clear(mask: Mask) -> RasterPatch | None:
    return fill_rect(mask, mask.rect, 0)


def invert(mask: Mask, rect: Rect) -> RasterPatch | None:
    """Swap masked and unmasked inside `rect` (the canvas is infinite, so inversion needs an area)."""
    recorder = PatchRecorder(mask, grow=True)
    area = recorder.touch(rect)
    if not area.is_empty():
        np.subtract(255, mask.view(area), out=mask.view(area))
    return recorder.finish()
