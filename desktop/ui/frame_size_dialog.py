"""Frame → Size…: set the generation frame to an exact width × height, a preset, or the model's
native size (the size it was trained at, where it composes best)."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QWidget,
)

from sfumato.core.api import SfumatoError, request_fields, setting_of
from sfumato.core.models.catalog import find_entry
from sfumato.core.models.inventory import find_installed
from sfumato.desktop.document import Document
from sfumato.desktop.document.frame import DEFAULT_SIZE, MIN_SIZE, SNAP, Frame
from sfumato.desktop.ui.widgets import spin_box

MAX_SIDE = int(next(setting_of(f).maximum or 0 for f in request_fields() if f.name == "width"))
PRESETS: tuple[tuple[str, int, int], ...] = (
    ("Square 512 × 512", 512, 512),
    ("Square 768 × 768", 768, 768),
    ("Portrait 512 × 768", 512, 768),
    ("Landscape 768 × 512", 768, 512),
    ("Wide 16:9 1024 × 576", 1024, 576),
    ("Square 1024 × 1024", 1024, 1024),
)


def native_size(model: str) -> int:
    """The side a model was trained at: the catalog's figure, or the UNet's sample size times the
    autoencoder's downscaling for a model folder (the demo model's 64 px); 512 when neither says."""
    entry = find_entry(model) if model else None
    if entry is not None:
        return entry.resolution
    folder = _model_folder(model)
    if folder is None:
        return DEFAULT_SIZE
    try:
        unet = json.loads((folder / "unet" / "config.json").read_text("utf-8"))
        vae = json.loads((folder / "vae" / "config.json").read_text("utf-8"))
        return int(unet["sample_size"]) * 2 ** (len(vae["block_out_channels"]) - 1)
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_SIZE


def ask_frame_size(document: Document, model: str, parent: QWidget | None = None) -> FrameSizeDialog:
    """Open the Frame Size dialog; OK resizes the frame in one undo step."""
    dialog = FrameSizeDialog(document.frame, model, parent)
    dialog.accepted.connect(lambda: document.set_frame(dialog.frame(), "Resize frame"))
    dialog.open()
    return dialog


def ok_cancel(dialog: QDialog) -> QDialogButtonBox:
    """OK and Cancel buttons that accept and reject `dialog`."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


def _model_folder(model: str) -> Path | None:
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    try:
        return find_installed(model).location
    except SfumatoError:
        return None


class FrameSizeDialog(QDialog):
    def __init__(self, frame: Frame, model: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Frame Size")
        self._frame, self._model = frame, model
        self.width_box = spin_box(MIN_SIZE, MAX_SIDE, frame.width, " px")
        self.height_box = spin_box(MIN_SIZE, MAX_SIDE, frame.height, " px")
        for box in (self.width_box, self.height_box):
            box.setSingleStep(SNAP)
        self.presets = QComboBox()
        self.presets.addItem("Presets…")
        for label, width, height in PRESETS:
            self.presets.addItem(label, (width, height))
        self.presets.activated.connect(self._use_preset)
        side = native_size(model)
        self.native_button = QPushButton(f"Fit the Model's Native Size ({side} × {side})")
        self.native_button.clicked.connect(lambda: self.set_size(side, side))
        size_row = QHBoxLayout()
        size_row.addWidget(self.width_box)
        size_row.addWidget(self.height_box)
        buttons = ok_cancel(self)
        form = QFormLayout(self)
        form.addRow("Width × height", size_row)
        form.addRow("", self.presets)
        form.addRow("", self.native_button)
        form.addRow(buttons)

    def set_size(self, width: int, height: int) -> None:
        self.width_box.setValue(width)
        self.height_box.setValue(height)

    def _use_preset(self, index: int) -> None:
        size = self.presets.itemData(index)
        if size is not None:
            self.set_size(*size)

    def frame(self) -> Frame:
        """The frame as chosen: same place, the new size (snapped to multiples of 8)."""
        return self._frame.resized(self.width_box.value(), self.height_box.value())
