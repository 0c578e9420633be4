"""The model manager's Settings dialog for one model: the size, steps, CFG scale and sampler it
starts with in the Generate panel and in `sfumato generate`. Only what the artist sets apart from the
model's own defaults is kept (in Sfumato's config folder), so "Use the model's defaults" forgets it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QPushButton, QWidget

from sfumato.core.api import SfumatoError, request_fields, setting_of
from sfumato.core.models.defaults import FIELDS, model_defaults, save_artist_defaults
from sfumato.desktop.ui.widget_values import read_value, write_value
from sfumato.desktop.ui.widgets import decimal_box, spin_box

SIZE_STEP = 8


class ModelSettingsDialog(QDialog):
    saved = Signal(str)  # the model id

    def __init__(self, model_id: str, name: str, samplers: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelSettings")
        self.setWindowTitle(f"Settings — {name}")
        self.model_id = model_id
        self.boxes: dict[str, QWidget] = {}
        declared = {field.name: field for field in request_fields()}
        form = QFormLayout()
        form.addRow(QLabel(f"What {name} starts with in the Generate panel and on the command line."))
        for field_name in FIELDS:
            how = setting_of(declared[field_name])
            box = self._box(field_name, how.minimum, how.maximum, samplers)
            box.setObjectName(field_name)
            self.boxes[field_name] = box
            form.addRow(how.label, box)
        self.message = QLabel()
        self.message.setWordWrap(True)
        form.addRow(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.reset_button = QPushButton("Use the model's defaults")
        buttons.addButton(self.reset_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.reset_button.clicked.connect(self.reset)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.setLayout(form)
        self._show(asdict(model_defaults(model_id)))

    @staticmethod
    def _box(name: str, minimum: float | None, maximum: float | None, samplers: list[str]) -> QWidget:
        if name == "sampler":
            combo = QComboBox()
            combo.addItems(samplers)
            return combo
        low, high = minimum or 0, maximum or 0
        if name == "cfg":
            return decimal_box(max(1.0, low), high, low, step=0.5, decimals=1)
        box = spin_box(int(low), int(high), int(low))
        if name in ("width", "height"):
            box.setSingleStep(SIZE_STEP)
            box.setMinimum(max(SIZE_STEP, int(low)))
        return box

    def _show(self, values: dict[str, Any]) -> None:
        for name, box in self.boxes.items():
            write_value(box, values[name])

    def values(self) -> dict[str, Any]:
        return {name: read_value(box) for name, box in self.boxes.items()}

    def save(self) -> None:
        """Keep what differs from the model's own defaults; a value out of range is said, not kept."""
        own = asdict(model_defaults(self.model_id, with_artists=False))
        chosen = {name: value for name, value in self.values().items() if value != own[name]}
        try:
            save_artist_defaults(self.model_id, chosen)
        except SfumatoError as error:
            self.message.setText(error.message)
            return
        self.saved.emit(self.model_id)
        self.accept()

    def reset(self) -> None:
        save_artist_defaults(self.model_id, {})
        self._show(asdict(model_defaults(self.model_id)))
        self.saved.emit(self.model_id)
