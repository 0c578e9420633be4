"""Generation progress on stderr: a redrawn bar on a terminal, a line per finished image otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from sfumato.core.api import TERMINAL_EVENTS, Event, LoadingModel, MemoryTierUsed, Optimising, Step

BAR_WIDTH = 20


def progress_bar(step: int, total: int, image: int, images: int, width: int = BAR_WIDTH) -> str:
    """`[######..............] step 6/20 image 1/2` for `step` (1-based) of image `image` (0-based)."""
    filled = round(width * step / total) if total > 0 else width
    filled = min(max(filled, 0), width)
    return f"[{'#' * filled}{'.' * (width - filled)}] step {step}/{total} image {image + 1}/{images}"


class Progress:
    """Shows a job's events on `stream`; `interactive` redraws one line in place."""

    def __init__(self, stream: TextIO, interactive: bool) -> None:
        self._stream = stream
        self._interactive = interactive
        self._drawn = 0  # characters on the current line

    @classmethod
    def for_stream(cls, stream: TextIO) -> Progress:
        isatty = getattr(stream, "isatty", None)
        return cls(stream, bool(isatty and isatty()))

    def show(self, event: Event) -> None:
        match event:
            case LoadingModel(model=model) if self._interactive:
                self._draw(f"Loading model {Path(model).name}…")
            case MemoryTierUsed(reason=reason, retry=True) | Optimising(message=reason):
                self.message(reason)
            case Step(step=step, total=total, image=image, images=images):
                if self._interactive:
                    self._draw(progress_bar(step, total, image, images))
                elif step == total:
                    self._line(f"image {image + 1}/{images} done ({total} steps)")
            case _ if isinstance(event, TERMINAL_EVENTS):
                self.end_line()

    def message(self, text: str) -> None:
        """A line of its own, below the bar."""
        self.end_line()
        self._line(text)

    def end_line(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = 0

    def _draw(self, text: str) -> None:
        padding = " " * max(self._drawn - len(text), 0)
        self._stream.write(f"\r{text}{padding}")
        self._stream.flush()
        self._drawn = len(text)

    def _line(self, text: str) -> None:
        self._stream.write(f"{text}\n")
        self._stream.flush()
