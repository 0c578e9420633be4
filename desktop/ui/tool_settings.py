"""Which tool is in the artist's hand and how the brushes are set (size, hardness, opacity, colour)."""

from __future__ import annotations

import enum

from PySide6.QtCore import QObject, Signal

from sfumato.desktop.document import Brush

MIN_BRUSH = 1.0
MAX_BRUSH = 1000.0
# `[` and `]` change the size by this factor, so small and large brushes both step comfortably.
SIZE_STEP = 1.25


class Tool(enum.StrEnum):
    MOVE = "move"
    SELECT = "select"
    BRUSH = "brush"
    ERASER = "eraser"
    MASK_BRUSH = "mask brush"
    MASK_ERASER = "mask eraser"
    MASK_RECTANGLE = "mask rectangle"
    PICKER = "colour picker"
    FRAME = "frame"

    @property
    def paints(self) -> bool:
        return self in (Tool.BRUSH, Tool.ERASER, Tool.MASK_BRUSH, Tool.MASK_ERASER)


# A strong red reads on the dark canvas and on the grey checkerboard alike; near-black vanished.
DEFAULT_BRUSH_COLOUR = (200, 40, 40)


class ToolSettings(QObject):
    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tool = Tool.BRUSH
        self.size = 24.0
        self.hardness = 0.8
        self.opacity = 1.0
        self.colour: tuple[int, int, int] = DEFAULT_BRUSH_COLOUR

    @property
    def tool(self) -> Tool:
        return self._tool

    def set_tool(self, tool: Tool) -> None:
        if tool is not self._tool:
            self._tool = tool
            self.changed.emit()

    def set_size(self, size: float) -> None:
        self.size = min(max(float(size), MIN_BRUSH), MAX_BRUSH)
        self.changed.emit()

    def grow(self) -> None:
        self.set_size(max(self.size * SIZE_STEP, self.size + 1))

    def shrink(self) -> None:
        self.set_size(min(self.size / SIZE_STEP, self.size - 1))

    def set_hardness(self, hardness: float) -> None:
        self.hardness = min(max(float(hardness), 0.0), 1.0)
        self.changed.emit()

    def set_opacity(self, opacity: float) -> None:
        self.opacity = min(max(float(opacity), 0.0), 1.0)
        self.changed.emit()

    def set_colour(self, colour: tuple[int, int, int]) -> None:
        self.colour = (int(colour[0]), int(colour[1]), int(colour[2]))
        self.changed.emit()

    def brush(self) -> Brush:
        """The brush for the current tool (erasers erase; mask brushes ignore the colour)."""
        eraser = self._tool in (Tool.ERASER, Tool.MASK_ERASER)
        return Brush(
            size=self.size, hardness=self.hardness, opacity=self.opacity, colour=self.colour, eraser=eraser
        )
