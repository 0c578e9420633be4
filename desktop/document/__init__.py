"""The studio's document model: layers on an infinite canvas, a mask, the generation frame and an
undo history. Pure Python, numpy and Pillow: a canvas widget binds to it through `Document.changed`
and `History.changed`."""

from sfumato.desktop.document.brush import Brush
from sfumato.desktop.document.changes import (
    ActiveLayerChanged,
    Change,
    FrameChanged,
    LayersChanged,
    MaskChanged,
    PixelsChanged,
)
from sfumato.desktop.document.document import Document, Stroke
from sfumato.desktop.document.frame import Content, Frame, FrameCoverage
from sfumato.desktop.document.geometry import Rect
from sfumato.desktop.document.history import History
from sfumato.desktop.document.layers import BlendMode, Layer
from sfumato.desktop.document.mask import Mask

__all__ = [
    "ActiveLayerChanged",
    "BlendMode",
    "Brush",
    "Change",
    "Content",
    "Document",
    "Frame",
    "FrameChanged",
    "FrameCoverage",
    "History",
    "Layer",
    "LayersChanged",
    "Mask",
    "MaskChanged",
    "PixelsChanged",
    "Rect",
    "Stroke",
]
