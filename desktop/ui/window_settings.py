"""What the studio remembers between launches: the window's size and dock layout, the Generate
panel's fields, the recent models and the brush."""

from __future__ import annotations

import base64

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QMainWindow

from sfumato.desktop.ui.generation_panel import GenerationPanel
from sfumato.desktop.ui.settings import Settings
from sfumato.desktop.ui.tool_settings import ToolSettings

RECENT_MODELS = "recent_models"
FIRST_LAUNCH_SIZE = (1440, 900)


def _encode(data: QByteArray) -> str:
    return base64.b64encode(bytes(data.data())).decode("ascii")


def _decode(text: object) -> QByteArray | None:
    if not isinstance(text, str):
        return None
    try:
        return QByteArray(base64.b64decode(text))
    except ValueError:
        return None


class WindowSettings:
    def __init__(
        self, window: QMainWindow, settings: Settings, generation: GenerationPanel, tools: ToolSettings
    ) -> None:
        self._window = window
        self._settings = settings
        self._generation = generation
        self._tools = tools

    def restore(self) -> bool:
        """Put back what was saved; False when there was no dock layout to restore (first launch)."""
        window, settings = self._window, self._settings
        geometry = _decode(settings.get("window_geometry"))
        if geometry is None or not window.restoreGeometry(geometry):
            self._first_launch_geometry()
        state = _decode(settings.get("window_state"))
        restored = state is not None and window.restoreState(state)
        generation = settings.get("generation", {})
        self._generation.restore(generation if isinstance(generation, dict) else {})
        model = generation.get("model") if isinstance(generation, dict) else None
        self._generation.models.set_models(settings.recent(RECENT_MODELS), model)
        brush = settings.get("brush", {})
        if isinstance(brush, dict):
            for key, setter in (
                ("size", self._tools.set_size),
                ("hardness", self._tools.set_hardness),
                ("opacity", self._tools.set_opacity),
            ):
                if isinstance(brush.get(key), int | float):
                    setter(brush[key])
        return restored

    def save(self) -> None:
        settings, tools = self._settings, self._tools
        settings.set("window_geometry", _encode(self._window.saveGeometry()))
        settings.set("window_state", _encode(self._window.saveState()))
        settings.set("generation", self._generation.state())
        settings.set("brush", {"size": tools.size, "hardness": tools.hardness, "opacity": tools.opacity})
        settings.save()

    def remember_model(self, model: str) -> None:
        self._settings.add_recent(RECENT_MODELS, model)

    def _first_launch_geometry(self) -> None:
        """1440×900, or 90 % of a smaller screen, centred on it."""
        window = self._window
        screen = window.screen().availableGeometry() if window.screen() else None
        if screen is None:
            window.resize(*FIRST_LAUNCH_SIZE)
            return
        width = min(FIRST_LAUNCH_SIZE[0], int(screen.width() * 0.9))
        height = min(FIRST_LAUNCH_SIZE[1], int(screen.height() * 0.9))
        window.setGeometry(
            screen.x() + (screen.width() - width) // 2,
            screen.y() + (screen.height() - height) // 2,
            width,
            height,
        )
