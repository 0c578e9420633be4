"""Edits of a rectangle of a layer's pixels, as a selection makes them: lift the pixels and put them
down elsewhere, scaled to a new rectangle, over what lies there; or clear them. Each edit returns
the patch that undoes it (None when nothing changed)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from sfumato.desktop.document.geometry import Rect
from sfumato.desktop.document.layers import Layer
from sfumato.desktop.document.patches import PatchRecorder, RasterPatch


def scaled(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """Straight-alpha RGBA resampled to width × height (Pillow premultiplies, so edges keep no fringe)."""
    if pixels.shape[:2] == (height, width):
        return pixels.copy()
    shrinking = width * height < pixels.shape[0] * pixels.shape[1]
    resample = Image.Resampling.LANCZOS if shrinking else Image.Resampling.BICUBIC
    return np.asarray(Image.fromarray(pixels, "RGBA").resize((width, height), resample))


def over(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """`top` composited over `bottom`, both straight-alpha RGBA."""
    top_alpha = top[..., 3:4].astype(np.float32) / 255
    bottom_alpha = bottom[..., 3:4].astype(np.float32) / 255 * (1 - top_alpha)
    alpha = top_alpha + bottom_alpha
    colour = top[..., :3] * top_alpha + bottom[..., :3] * bottom_alpha
    colour = np.divide(colour, alpha, out=np.zeros_like(colour), where=alpha > 0)
    out = np.concatenate([colour, alpha * 255], axis=2)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def transform_pixels(layer: Layer, source: Rect, target: Rect) -> RasterPatch | None:
    """Lift the pixels of `source` and put them down scaled to `target` (which may overlap it)."""
    if source.is_empty() or target.is_empty():
        return None
    lifted = layer.read(source)
    recorder = PatchRecorder(layer, grow=True)
    cleared = recorder.touch(source.intersect(layer.rect))
    if not cleared.is_empty():
        layer.write(cleared, layer.blank(cleared))
    recorder.touch(target)
    layer.write(target, over(scaled(lifted, target.width, target.height), layer.read(target)))
    return recorder.finish()


def clear_pixels(layer: Layer, rect: Rect) -> RasterPatch | None:
    recorder = PatchRecorder(layer, grow=False)
    inside = recorder.touch(rect)
    if inside.is_empty():
        return None
    layer.write(inside, layer.blank(inside))
    return recorder.finish()
