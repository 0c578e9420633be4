"""The artist's preferences (Edit › Preferences…), kept in the studio's settings file. A value that
is missing, of the wrong kind or out of range reads as its default, so a hand-edited file can never
keep the studio from starting."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

from sfumato.core.api import DEVICE_CHOICES, SPEED_CHOICES
from sfumato.core.memory_tiers import MEMORY_CHOICES
from sfumato.desktop.document.frame import DEFAULT_SIZE
from sfumato.desktop.document.history import DEFAULT_BUDGET_BYTES
from sfumato.desktop.ui.settings import Settings

log = logging.getLogger(__name__)

KEY = "preferences"
MB = 1024 * 1024
THEMES = {"dark": "Dark", "system": "System (light or dark, as the platform draws)"}
UI_SCALES = (0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)
HISTORY_MB = (64, 16384)
AUTOSAVE_MINUTES = (1, 60)
FRAME_SIDE = (64, 4096)


def _within(bounds: tuple[int, int]) -> Callable[[Any], bool]:
    return lambda value: (
        isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]
    )


_VALID: dict[str, Callable[[Any], bool]] = {
    "device": lambda value: value in DEVICE_CHOICES,
    "memory": lambda value: value in MEMORY_CHOICES,
    "speed": lambda value: value in SPEED_CHOICES,
    "history_mb": _within(HISTORY_MB),
    "autosave_minutes": _within(AUTOSAVE_MINUTES),
    "default_model": lambda value: isinstance(value, str),
    "frame_width": _within(FRAME_SIDE),
    "frame_height": _within(FRAME_SIDE),
    "theme": lambda value: value in THEMES,
    "ui_scale": lambda value: value in UI_SCALES,
}


@dataclass(frozen=True)
class Preferences:
    # Performance: where the engine runs, how much of a model stays on the GPU, and how fast it runs.
    device: str = "auto"
    memory: str = "auto"  # a memory tier, or auto: chosen per job from the free memory
    speed: str = "default"  # a speed profile
    # Documents
    history_mb: int = DEFAULT_BUDGET_BYTES // MB  # undo history kept per document
    autosave_minutes: int = 1
    default_model: str = ""  # empty: the model used last
    frame_width: int = DEFAULT_SIZE  # the frame of the document the studio opens with
    frame_height: int = DEFAULT_SIZE
    # Appearance
    theme: str = "dark"
    ui_scale: float = 1.0  # read at launch (QT_SCALE_FACTOR)

    @property
    def history_bytes(self) -> int:
        return self.history_mb * MB

    @classmethod
    def load(cls, settings: Settings) -> Preferences:
        stored = settings.get(KEY, {})
        stored = stored if isinstance(stored, dict) else {}
        values = {}
        for declared in fields(cls):
            if declared.name not in stored:
                continue
            value = stored[declared.name]
            if _VALID[declared.name](value):
                values[declared.name] = value
            else:
                log.warning(
                    "ignoring the preference %s=%r: not a value Sfumato accepts", declared.name, value
                )
        return cls(**values)

    def save(self, settings: Settings) -> None:
        settings.set(KEY, asdict(self))
        settings.save()
