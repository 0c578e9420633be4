"""The preferences in effect in a running studio: read at launch, shown in Edit › Preferences…, and
applied when the dialog is accepted — at once where possible, the engine by restarting it, the
interface size at the next launch."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication

from sfumato.desktop.document import Document
from sfumato.desktop.document.frame import Frame
from sfumato.desktop.ui.preferences import Preferences
from sfumato.desktop.ui.preferences_dialog import DEVICES, PreferencesDialog
from sfumato.desktop.ui.theme import apply_theme

if TYPE_CHECKING:
    from sfumato.desktop.ui.main_window import MainWindow


class StudioPreferences:
    def __init__(self, window: MainWindow) -> None:
        self._window = window
        self.current = Preferences.load(window.settings)
        self.dialog: PreferencesDialog | None = None  # while it is open
        self.engine_restart: asyncio.Future[None] | None = None
        window.host.replaced.connect(self._fit_history)
        self._at_launch()

    def _at_launch(self) -> None:
        window, preferences = self._window, self.current
        if preferences.theme != "dark":  # the studio starts dark
            self._apply_theme()
        document = window.document
        frame = Frame(width=preferences.frame_width, height=preferences.frame_height)
        if not document.layers and not document.history.can_undo() and document.frame != frame:
            window.host.replace(Document(frame=frame, history_budget=preferences.history_bytes))
        self._fit_history(window.document)
        window.recovery.set_interval(preferences.autosave_minutes * 60)
        self._select_default_model()

    def open_dialog(self) -> PreferencesDialog:
        picker = self._window.generation.models
        models = {reference: picker.label_of(reference) for reference in picker.models()}
        dialog = PreferencesDialog(self.current, models, self._window)
        dialog.accepted.connect(lambda: self.apply(dialog.preferences()))
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def apply(self, preferences: Preferences) -> None:
        """Keep `preferences` and put them into effect."""
        previous, self.current = self.current, preferences
        window = self._window
        preferences.save(window.settings)
        if preferences.theme != previous.theme:
            self._apply_theme()
        self._fit_history(window.document)
        window.recovery.set_interval(preferences.autosave_minutes * 60)
        if preferences.default_model != previous.default_model:
            self._select_default_model()
        if _engine_choices(preferences) != _engine_choices(previous):
            self._restart_engine()

    def _apply_theme(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, self.current.theme)

    def _fit_history(self, document: Document) -> None:
        document.history.budget_bytes = self.current.history_bytes

    def _select_default_model(self) -> None:
        picker = self._window.generation.models
        if self.current.default_model in picker.models():
            picker.select(self.current.default_model)

    def _restart_engine(self) -> None:
        client = self._window.client
        device, memory, speed = _engine_choices(self.current)
        self._window.status.show_message(f"Restarting the engine on: {DEVICES[device]}…")
        settings = replace(client.settings, device=device, memory=memory, speed=speed)
        self.engine_restart = asyncio.ensure_future(client.restart(settings))


def _engine_choices(preferences: Preferences) -> tuple[str, str, str]:
    """What the engine is started with: a change to any of them restarts it."""
    return preferences.device, preferences.memory, preferences.speed
