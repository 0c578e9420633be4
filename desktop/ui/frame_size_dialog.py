"""Frame → Size…: set the generation frame to an exact width × height, a preset, or the model's
native size (the size it was trained at, where it composes best)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QWidget,
)

from sfumato.core.api import request_fields, setting_of
from sfumato.core.models.catalog import find_entry
from sfumato.core.models.defaults import native_size
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


def fitting_size(model: str) -> tuple[int, int]:
    """The size `model` was trained at (core's per-model defaults read it from the model's config
    files: 64 px for the demo model), else its catalog resolution, else 512 × 512."""
    size = native_size(model) if model else None
    if size is not None:
        return size
    entry = find_entry(model) if model else None
    side = entry.resolution if entry is not None else DEFAULT_SIZE
    return side, side


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
        width, height = fitting_size(model)
        self.native_button = QPushButton(f"Fit the Model's Native Size ({width} × {height})")
        self.native_button.clicked.connect(lambda: self.set_size(width, height))
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
