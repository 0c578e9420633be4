"""Raster layers: straight-alpha RGBA pixels at an offset, with the properties a layer panel shows."""

from __future__ import annotations

import enum
import uuid

import numpy as np

from sfumato.core.api import Recipe
from sfumato.desktop.document.raster import Raster


class BlendMode(enum.StrEnum):
    """Separable blend modes of the W3C Compositing and Blending spec (also OpenRaster's svg: ops)."""

    NORMAL = "normal"
    MULTIPLY = "multiply"
    SCREEN = "screen"
    OVERLAY = "overlay"
    DARKEN = "darken"
    LIGHTEN = "lighten"
    COLOR_DODGE = "color-dodge"
    COLOR_BURN = "color-burn"
    HARD_LIGHT = "hard-light"
    SOFT_LIGHT = "soft-light"
    DIFFERENCE = "difference"
    EXCLUSION = "exclusion"

    @property
    def svg_name(self) -> str:
        return "svg:src-over" if self is BlendMode.NORMAL else f"svg:{self.value}"

    @classmethod
    def from_svg_name(cls, name: str) -> BlendMode | None:
        if name == "svg:src-over":
            return cls.NORMAL
        if name.startswith("svg:"):
            try:
                return cls(name.removeprefix("svg:"))
            except ValueError:
                return None
        return None


# Properties that `Document.set_layer_properties` may change (and undo).
LAYER_PROPERTIES = frozenset({"name", "opacity", "visible", "locked", "blend", "recipe", "x", "y"})


def empty_pixels() -> np.ndarray:
    return np.zeros((0, 0, 4), dtype=np.uint8)


class Layer(Raster):
    """An RGBA uint8 raster (straight, not premultiplied, alpha) on the infinite canvas.

    `recipe` is set on layers that came out of a generation, so they can be reproduced.
    """

    def __init__(
        self,
        pixels: np.ndarray | None = None,
        *,
        x: int = 0,
        y: int = 0,
        name: str = "Layer",
        opacity: float = 1.0,
        visible: bool = True,
        locked: bool = False,
        blend: BlendMode = BlendMode.NORMAL,
        recipe: Recipe | None = None,
    ) -> None:
        pixels = empty_pixels() if pixels is None else pixels
        if pixels.ndim != 3 or pixels.shape[2] != 4 or pixels.dtype != np.uint8:
            raise ValueError(f"layer pixels must be uint8 (H, W, 4), got {pixels.dtype} {pixels.shape}")
        super().__init__(pixels, x, y)
        self.id = uuid.uuid4().hex
        self.name = name
        self.opacity = float(opacity)
        self.visible = visible
        self.locked = locked
        self.blend = BlendMode(blend)
        self.recipe = recipe

    def copy(self, *, name: str | None = None) -> Layer:
        """An independent layer with the same pixels and properties (and a new id)."""
        return Layer(
            self.pixels.copy(),
            x=self.x,
            y=self.y,
            name=self.name if name is None else name,
            opacity=self.opacity,
            visible=self.visible,
            locked=self.locked,
            blend=self.blend,
            recipe=self.recipe,
        )

    def __repr__(self) -> str:
        return f"Layer({self.name!r}, rect={self.rect}, blend={self.blend.value}, opacity={self.opacity})"
