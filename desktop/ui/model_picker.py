"""Pick the model to generate with: recently used model folders and files, the bundled demo model
when it is installed, and buttons to choose another folder or checkpoint file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QWidget

from sfumato.core.models.source import demo_model_dir
from sfumato.desktop.ui.widgets import tool_button

CHECKPOINT_FILTER = "Model checkpoints (*.safetensors *.ckpt);;All files (*)"


def demo_model() -> str | None:
    """The demo model's folder when this installation has one."""
    folder = demo_model_dir()
    return str(folder) if folder is not None else None


def model_label(path: str) -> str:
    return Path(path).name or path


class ModelPicker(QWidget):
    model_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setObjectName("model")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(12)
        self.combo.setPlaceholderText("Choose a model folder or file")
        self.combo.activated.connect(lambda _index: self.model_chosen.emit(self.model()))
        folder = tool_button("Folder…", "Choose a diffusers model folder")
        folder.clicked.connect(self.choose_folder)
        checkpoint = tool_button("File…", "Choose a single-file checkpoint")
        checkpoint.clicked.connect(self.choose_file)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(folder)
        layout.addWidget(checkpoint)

    def set_models(self, recent: list[str], selected: str | None = None) -> None:
        """List the demo model (when installed) and the recent models; select `selected` or the first."""
        demo = demo_model()
        paths = list(dict.fromkeys([*recent, *([demo] if demo else [])]))
        self.combo.clear()
        for path in paths:
            label = f"{model_label(path)} (demo)" if path == demo else model_label(path)
            self.combo.addItem(label, path)
            self.combo.setItemData(self.combo.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        wanted = selected if selected in paths else demo if demo in paths else paths[0] if paths else None
        if wanted is not None:
            self.combo.setCurrentIndex(paths.index(wanted))

    def model(self) -> str:
        data = self.combo.currentData()
        return str(data) if data else ""

    def select(self, path: str) -> None:
        index = self.combo.findData(path)
        if index < 0:
            self.combo.insertItem(0, model_label(path), path)
            self.combo.setItemData(0, path, Qt.ItemDataRole.ToolTipRole)
            index = 0
        self.combo.setCurrentIndex(index)
        self.model_chosen.emit(path)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.select(folder)

    def choose_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Choose a model checkpoint", "", CHECKPOINT_FILTER)
        if path:
            self.select(path)
