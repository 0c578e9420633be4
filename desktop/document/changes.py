"""What a document tells its listeners (for example a canvas widget) after it changed."""

from __future__ import annotations

from dataclasses import dataclass

from sfumato.desktop.document.frame import Frame
from sfumato.desktop.document.geometry import Rect
from sfumato.desktop.document.layers import Layer


@dataclass(frozen=True)
class PixelsChanged:
    """The composite of this canvas area may look different now: repaint it."""

    rect: Rect


@dataclass(frozen=True)
class LayersChanged:
    """The layer list or a layer's properties (name, opacity, visibility, ...) changed."""


@dataclass(frozen=True)
class ActiveLayerChanged:
    layer: Layer | None


@dataclass(frozen=True)
class MaskChanged:
    rect: Rect


@dataclass(frozen=True)
class FrameChanged:
    frame: Frame


Change = PixelsChanged | LayersChanged | ActiveLayerChanged | MaskChanged | FrameChanged
