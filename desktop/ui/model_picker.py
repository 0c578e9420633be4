"""Pick the model to generate with: the installed models (the demo model first), recently used model
folders and files, buttons to choose another folder or checkpoint file, and a way to the model manager."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QWidget

from sfumato.core.api import SfumatoError
from sfumato.core.models.library import DEMO_ID
from sfumato.desktop.ui.widgets import tool_button

log = logging.getLogger(__name__)

CHECKPOINT_FILTER = "Model checkpoints (*.safetensors *.ckpt);;All files (*)"
MANAGE = "\0manage"  # the item that opens the model manager; never a model
BASE_NAMES = {"sd1": "SD 1.x", "sd2": "SD 2.x"}


@dataclass(frozen=True)
class PickableModel:
    id: str  # what the job's `model` gets; the model loader resolves it
    label: str
    tooltip: str


def installed_models() -> list[PickableModel]:
    """The installed, complete checkpoints, demo model first."""
    try:
        from sfumato.core.models.inventory import Status, list_installed

        models = list_installed()
    except (SfumatoError, OSError) as error:
        log.warning("could not list the installed models: %s", error)
        return []
    usable = [m for m in models if m.kind == "checkpoint" and m.status is Status.READY]
    usable.sort(key=lambda model: model.id != DEMO_ID)
    return [PickableModel(m.id, model_title(m.name, m.base, m.variant), str(m.location)) for m in usable]


def model_title(name: str, base: str | None, variant: str | None) -> str:
    """`OpenJourney · SD 1.x`, with `· inpainting` for models made to fill masked areas."""
    parts = [name]
    if base in BASE_NAMES:
        parts.append(BASE_NAMES[base])
    if variant == "inpainting":
        parts.append("inpainting")
    return " · ".join(parts)


def model_label(path: str) -> str:
    return Path(path).name or path


def _is_path(reference: str) -> bool:
    return os.path.isabs(reference) or reference.startswith("~")


class ModelPicker(QWidget):
    model_chosen = Signal(str)
    manage_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._recent: list[str] = []
        self.combo = QComboBox()
        self.combo.setObjectName("model")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(12)
        self.combo.setPlaceholderText("No model installed yet")
        self.combo.activated.connect(self._activated)
        self._previous = -1
        self.combo.currentIndexChanged.connect(self._remember_index)
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
        """List the installed models, then recent folders and files; select `selected`, else the demo
        model, else the first."""
        self._recent = [path for path in recent if _is_path(path)]
        self._fill(selected)

    def refresh(self) -> None:
        """List what is installed now, keeping the current choice while it is still there."""
        self._fill(self.model() or None)

    def _fill(self, selected: str | None) -> None:
        installed = installed_models()
        entries = [(model.id, model.label, model.tooltip) for model in installed]
        known = {model.id for model in installed}
        entries += [
            (path, model_label(path), path) for path in dict.fromkeys(self._recent) if path not in known
        ]
        self.combo.blockSignals(True)
        self.combo.clear()
        for reference, label, tooltip in entries:
            self.combo.addItem(label, reference)
            self.combo.setItemData(self.combo.count() - 1, tooltip, Qt.ItemDataRole.ToolTipRole)
        if entries:
            self.combo.insertSeparator(self.combo.count())
        self.combo.addItem("Get models…" if entries else "Get models… (none installed yet)", MANAGE)
        self.combo.setItemData(self.combo.count() - 1, "Open the model manager", Qt.ItemDataRole.ToolTipRole)
        references = [reference for reference, _label, _tooltip in entries]
        wanted = (
            selected
            if selected in references
            else DEMO_ID
            if DEMO_ID in references
            else references[0]
            if references
            else None
        )
        self.combo.setCurrentIndex(references.index(wanted) if wanted is not None else -1)
        self._previous = self.combo.currentIndex()
        self.combo.blockSignals(False)

    def models(self) -> list[str]:
        """Every model reference the picker offers, in order."""
        found = (self.combo.itemData(index) for index in range(self.combo.count()))
        return [str(data) for data in found if data and data != MANAGE]

    def label_of(self, reference: str) -> str:
        index = self.combo.findData(reference)
        return self.combo.itemText(index) if index >= 0 else model_label(reference)

    def model(self) -> str:
        data = self.combo.currentData()
        return str(data) if data and data != MANAGE else ""

    def select(self, reference: str) -> None:
        index = self.combo.findData(reference)
        if index < 0:
            if _is_path(reference):
                self._recent.insert(0, reference)
            self.combo.insertItem(0, model_label(reference), reference)
            self.combo.setItemData(0, reference, Qt.ItemDataRole.ToolTipRole)
            index = 0
        self.combo.setCurrentIndex(index)
        self.model_chosen.emit(reference)

    def _remember_index(self, index: int) -> None:
        if self.combo.itemData(index) != MANAGE:
            self._previous = index

    def _activated(self, index: int) -> None:
        if self.combo.itemData(index) == MANAGE:
            self.combo.setCurrentIndex(self._previous)
            self.manage_requested.emit()
            return
        self.model_chosen.emit(self.model())

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.select(folder)

    def choose_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Choose a model checkpoint", "", CHECKPOINT_FILTER)
        if path:
            self.select(path)
