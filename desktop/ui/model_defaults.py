"""The studio follows the chosen model's own defaults (`sfumato.core.models.defaults`): the Generate
panel takes its steps, CFG scale and sampler unless the artist changed them, a fresh document's
frame starts at its native size, and choosing a model offers to set the frame to that size."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject

from sfumato.core.models.defaults import ModelDefaults, declared_defaults, model_defaults
from sfumato.desktop.document import Document
from sfumato.desktop.document.frame import Frame
from sfumato.desktop.ui.document_host import DocumentHost
from sfumato.desktop.ui.generation_panel import GenerationPanel
from sfumato.desktop.ui.offer_bar import OfferBar
from sfumato.desktop.ui.widget_values import read_value, write_value

PANEL_DEFAULTS = ("steps", "cfg", "sampler")


class ModelDefaultsFollower(QObject):
    def __init__(self, panel: GenerationPanel, host: DocumentHost, offers: OfferBar) -> None:
        super().__init__(panel)
        self._panel = panel
        self._host = host
        self._offers = offers
        declared = declared_defaults()
        # What each setting was last given by a model: a value still equal to it was not changed.
        self._given: dict[str, Any] = {name: getattr(declared, name) for name in PANEL_DEFAULTS}
        panel.models.model_chosen.connect(self.model_chosen)

    def start(self) -> None:
        """At launch: the panel takes the picked model's defaults, and a fresh document whose frame
        has the default size (no size chosen in Preferences) takes the model's native size."""
        model = self._panel.models.model()
        if not model:
            return
        defaults = self.apply(model)
        document, default = self._host.document, Frame()
        fresh = not document.layers and not document.history.can_undo() and self._host.path is None
        if fresh and (document.frame.width, document.frame.height) == (default.width, default.height):
            frame = document.frame
            self._host.replace(
                Document(frame=Frame.native(defaults.width, defaults.height, x=frame.x, y=frame.y))
            )
            self._offers.dismiss()  # an offer made while the launch picked the model is answered

    def model_chosen(self, model: str) -> None:
        defaults = self.apply(model)
        self.offer_native_size(model, defaults)

    def settings_changed(self, model: str) -> None:
        """The artist changed a model's own settings: the panel takes them if it uses that model."""
        if model == self._panel.models.model():
            self.apply(model)

    def apply(self, model: str) -> ModelDefaults:
        """Put the model's defaults in the panel where the artist left the previous ones."""
        defaults = model_defaults(model)
        for name in PANEL_DEFAULTS:
            widget = self._panel.values[name]
            if read_value(widget) == self._given[name]:
                write_value(widget, getattr(defaults, name))
            self._given[name] = getattr(defaults, name)
        return defaults

    def offer_native_size(self, model: str, defaults: ModelDefaults) -> None:
        name = self._panel.models.combo.currentText() or model
        self.offer_frame_size(
            defaults.width, defaults.height, f"{name} draws best at {defaults.width} × {defaults.height}"
        )

    def offer_frame_size(self, width: int, height: int, why: str) -> None:
        """Offer, without blocking, to give the frame this size (nothing to offer when it has it)."""
        frame = self._host.document.frame
        wanted = Frame.native(width, height)
        if (frame.width, frame.height) == (wanted.width, wanted.height):
            return
        self._offers.offer(
            f"{why}; the frame is {frame.width} × {frame.height}.",
            f"Set the frame to {wanted.width} × {wanted.height}",
            lambda: self._resize_frame(wanted),
        )

    def _resize_frame(self, wanted: Frame) -> None:
        document = self._host.document
        document.set_frame(document.frame.resized(wanted.width, wanted.height), "Resize frame")
