"""Integer rectangles on the infinite canvas (x grows right, y grows down)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rect:
    """A half-open pixel rectangle: columns x..x+width-1, rows y..y+height-1."""

    x: int
    y: int
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.width < 0 or self.height < 0:
            raise ValueError(f"negative rectangle size: {self.width}x{self.height}")

    @classmethod
    def from_edges(cls, left: int, top: int, right: int, bottom: int) -> Rect:
        return cls(left, top, max(0, right - left), max(0, bottom - top))

    @classmethod
    def around(cls, left: float, top: float, right: float, bottom: float) -> Rect:
        """The smallest pixel rectangle holding the real-valued box."""
        return cls.from_edges(math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom))

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def area(self) -> int:
        return self.width * self.height

    def is_empty(self) -> bool:
        return self.width == 0 or self.height == 0

    def intersect(self, other: Rect) -> Rect:
        return Rect.from_edges(
            max(self.x, other.x),
            max(self.y, other.y),
            min(self.right, other.right),
            min(self.bottom, other.bottom),
        )

    def intersects(self, other: Rect) -> bool:
        return not self.intersect(other).is_empty()

    def union(self, other: Rect) -> Rect:
        """The bounding box of both; an empty rectangle adds nothing."""
        if other.is_empty():
            return self
        if self.is_empty():
            return other
        return Rect.from_edges(
            min(self.x, other.x),
            min(self.y, other.y),
            max(self.right, other.right),
            max(self.bottom, other.bottom),
        )

    def contains(self, other: Rect) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.right <= self.right
            and other.bottom <= self.bottom
        )

    def translated(self, dx: int, dy: int) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.width, self.height)

    def slices(self, origin_x: int, origin_y: int) -> tuple[slice, slice]:
        """Row and column slices of this rectangle inside an array whose top-left pixel is the origin."""
        return (
            slice(self.y - origin_y, self.bottom - origin_y),
            slice(self.x - origin_x, self.right - origin_x),
        )


EMPTY = Rect(0, 0, 0, 0)


def union_all(rects: Iterable[Rect]) -> Rect:
    result = EMPTY
    for rect in rects:
        result = result.union(rect)
    return result
