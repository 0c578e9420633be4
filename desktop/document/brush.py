"""Brush and eraser strokes on a layer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sfumato.desktop.document.dabs import ApplyFunction, DabStroke
from sfumato.desktop.document.layers import Layer


@dataclass(frozen=True)
class Brush:
    """A round brush. `size` is the diameter in canvas pixels; `spacing` the distance between dabs
    as a fraction of the size; `opacity` caps the whole stroke; `eraser` removes instead of paints."""

    size: float = 20.0
    hardness: float = 0.8
    opacity: float = 1.0
    colour: tuple[int, int, int] = (0, 0, 0)
    spacing: float = 0.15
    eraser: bool = False

    def __post_init__(self) -> None:
        if self.size <= 0:
            raise ValueError(f"brush size must be positive, got {self.size}")
        if not 0.0 <= self.opacity <= 1.0 or not 0.0 <= self.hardness <= 1.0:
            raise ValueError("brush opacity and hardness must lie between 0 and 1")
        if self.spacing <= 0:
            raise ValueError(f"brush spacing must be positive, got {self.spacing}")


def paint_over(colour: tuple[int, int, int], opacity: float) -> ApplyFunction:
    """Source-over of a solid colour whose alpha is the stroke coverage times `opacity`."""
    colour_f = np.asarray(colour, dtype=np.float32) / np.float32(255.0)

    def apply(before: np.ndarray, coverage: np.ndarray) -> np.ndarray:
        alpha_s = (coverage * np.float32(opacity))[..., None]
        pixels = before.astype(np.float32) / np.float32(255.0)
        alpha_b = pixels[..., 3:4]
        kept = alpha_b * (1.0 - alpha_s)
        alpha_o = alpha_s + kept
        scale = np.zeros_like(alpha_o)
        np.divide(np.float32(255.0), alpha_o, out=scale, where=alpha_o > 0.0)
        out = np.empty_like(before)
        out[..., :3] = np.rint((colour_f * alpha_s + pixels[..., :3] * kept) * scale)
        out[..., 3:4] = np.rint(alpha_o * 255.0)
        return np.where(alpha_s > 0.0, out, before)

    return apply


def erase(opacity: float) -> ApplyFunction:
    def apply(before: np.ndarray, coverage: np.ndarray) -> np.ndarray:
        remaining = 1.0 - coverage * np.float32(opacity)
        out = before.copy()
        out[..., 3] = np.rint(before[..., 3] * remaining)
        return out

    return apply


def layer_stroke(layer: Layer, brush: Brush) -> DabStroke:
    """A stroke on `layer`; painting beyond the layer's edge grows it, erasing there does nothing."""
    apply = erase(brush.opacity) if brush.eraser else paint_over(brush.colour, brush.opacity)
    return DabStroke(
        layer,
        size=brush.size,
        hardness=brush.hardness,
        spacing=brush.spacing,
        apply=apply,
        grow=not brush.eraser,
    )
