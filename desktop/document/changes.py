"""What a document tells its listeners (for example a canvas widget) after it changed."""

from __future__ import annotations

from dataclasses import dataclass

from sfumato.desktop.document.frame import Frame
from sfumato.desktop.document.geometry import Rect
from sfumato.desktop.document.layers import Layer


@dataclass(frozen=True, eq=False)
class PixelsChanged:
    """The composite of this canvas area may look different now: repaint it. `layer` is the one
    layer whose pixels or look changed (for its thumbnail), None when the stack itself changed."""

    rect: Rect
    layer: Layer | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PixelsChanged) and self.rect == other.rect and self.layer is other.layer

    def __hash__(self) -> int:
        return hash((self.rect, id(self.layer)))


@dataclass(frozen=True)
class LayersChanged:
    """The layer list or a layer's properties (name, opacity, visibility, ...) changed."""


@dataclass(frozen=True, eq=False)
class ActiveLayerChanged:
    layer: Layer | None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActiveLayerChanged) and self.layer is other.layer

    def __hash__(self) -> int:
        return id(self.layer)


@dataclass(frozen=True)
class MaskChanged:
    rect: Rect


@dataclass(frozen=True)
class FrameChanged:
    frame: Frame


Change = PixelsChanged | LayersChanged | ActiveLayerChanged | MaskChanged | FrameChanged
