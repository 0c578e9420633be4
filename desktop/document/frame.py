"""The generation frame: the canvas rectangle the next generation fills."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sfumato.desktop.document.compositing import composite_alpha
from sfumato.desktop.document.geometry import Rect

if TYPE_CHECKING:
    from sfumato.desktop.document.document import Document

SNAP = 8
MIN_SIZE = 64
DEFAULT_SIZE = 512


def snap(value: float) -> int:
    """The nearest multiple of 8 (halves round up)."""
    return math.floor(value / SNAP + 0.5) * SNAP


class Content(enum.StrEnum):
    EMPTY = "empty"
    PARTIAL = "partial"
    FULL = "full"


@dataclass(frozen=True)
class FrameCoverage:
    """What lies under the frame: how much of it the visible layers cover, and whether any of it is
    masked. EMPTY means fully transparent, FULL fully opaque, PARTIAL anything in between."""

    content: Content
    masked: bool


@dataclass(frozen=True)
class Frame:
    """Position and size snap to multiples of 8 on creation; the size is at least 64."""

    x: int = 0
    y: int = 0
    width: int = DEFAULT_SIZE
    height: int = DEFAULT_SIZE

    def __post_init__(self) -> None:
        object.__setattr__(self, "x", snap(self.x))
        object.__setattr__(self, "y", snap(self.y))
        object.__setattr__(self, "width", max(MIN_SIZE, snap(self.width)))
        object.__setattr__(self, "height", max(MIN_SIZE, snap(self.height)))

    @classmethod
    def native(cls, width: int, height: int | None = None, *, x: int = 0, y: int = 0) -> Frame:
        """A frame of a model's native size (square when only one side is given)."""
        return cls(x, y, width, width if height is None else height)

    @property
    def rect(self) -> Rect:
        return Rect(self.x, self.y, self.width, self.height)

    def moved_to(self, x: float, y: float) -> Frame:
        return replace(self, x=snap(x), y=snap(y))

    def resized(self, width: float, height: float) -> Frame:
        return replace(self, width=snap(width), height=snap(height))

    def coverage(self, document: Document) -> FrameCoverage:
        alpha = composite_alpha(document.layers, self.rect)
        if not alpha.any():
            content = Content.EMPTY
        elif bool((alpha == 255).all()):
            content = Content.FULL
        else:
            content = Content.PARTIAL
        return FrameCoverage(content=content, masked=document.mask.any_in(self.rect))
