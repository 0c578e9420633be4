"""Edit › Preferences…: the artist's preferences in three sections, Performance (where the engine
runs, its memory tier and speed profile), Documents and Appearance."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from sfumato.core.memory_tiers import LADDER, WHAT_IT_DOES
from sfumato.desktop.ui.preferences import (
    AUTOSAVE_MINUTES,
    FRAME_SIDE,
    HISTORY_MB,
    THEMES,
    UI_SCALES,
    Preferences,
)
from sfumato.desktop.ui.widgets import spin_box

DEVICES = {
    "auto": "Automatic (the best this computer has)",
    "cuda": "NVIDIA GPU (CUDA)",
    "mps": "Apple GPU (Metal)",
    "cpu": "CPU (slow, always available)",
}
MEMORY = {
    "auto": "Automatic (chosen for each job from the free memory)",
    **{tier.value: f"{tier.value.capitalize()}: {WHAT_IT_DOES[tier]}" for tier in LADDER},
}
SPEEDS = {
    "default": "Default (no start-up cost)",
    "fast": "Fast (the model compiled for this GPU; the first image at each size takes longer)",
}
LAST_USED = "The model used last"


def _combo(name: str, choices: dict[str, str], current: object) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    for value, label in choices.items():
        combo.addItem(label, value)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setEnabled(False)  # drawn in the quieter, disabled text colour
    return label


class PreferencesDialog(QDialog):
    def __init__(
        self, preferences: Preferences, models: dict[str, str], parent: QWidget | None = None
    ) -> None:
        """`models`: the models the Generate panel offers, reference → label."""
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle("Preferences")
        self._preferences = preferences
        layout = QVBoxLayout(self)
        layout.addWidget(self._performance(preferences))
        layout.addWidget(self._documents(preferences, models))
        layout.addWidget(self._appearance(preferences))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _performance(self, preferences: Preferences) -> QGroupBox:
        self.performance = QGroupBox("Performance")
        self.performance.setObjectName("performance")
        form = QFormLayout(self.performance)
        self.device = _combo("device", DEVICES, preferences.device)
        form.addRow("Device", self.device)
        self.memory = _combo("memory", MEMORY, preferences.memory)
        self.memory.setToolTip("How much of a model stays on the GPU; lower tiers fit smaller GPUs, slower")
        form.addRow("GPU memory", self.memory)
        self.speed = _combo("speed", SPEEDS, preferences.speed)
        form.addRow("Speed", self.speed)
        form.addRow(_note("Changing these restarts the engine; a generation in progress is stopped."))
        return self.performance

    def _documents(self, preferences: Preferences, models: dict[str, str]) -> QGroupBox:
        box = QGroupBox("Documents")
        form = QFormLayout(box)
        self.history = spin_box(*HISTORY_MB, preferences.history_mb, " MB")
        self.history.setObjectName("historyMemory")
        self.history.setToolTip("Memory for undo steps per document; the oldest steps go when it is full")
        form.addRow("Undo history memory", self.history)
        self.autosave = spin_box(*AUTOSAVE_MINUTES, preferences.autosave_minutes, " min")
        self.autosave.setObjectName("autosaveMinutes")
        self.autosave.setToolTip("How often the open document is saved for recovery after a crash")
        form.addRow("Autosave every", self.autosave)
        self.model = _combo("defaultModel", {"": LAST_USED, **models}, preferences.default_model)
        if preferences.default_model and self.model.currentData() != preferences.default_model:
            self.model.addItem(preferences.default_model, preferences.default_model)  # not installed now
            self.model.setCurrentIndex(self.model.count() - 1)
        self.model.setToolTip("The model the Generate panel starts with")
        form.addRow("Default model", self.model)
        self.frame_width = spin_box(*FRAME_SIDE, preferences.frame_width, " px")
        self.frame_height = spin_box(*FRAME_SIDE, preferences.frame_height, " px")
        for side in (self.frame_width, self.frame_height):
            side.setSingleStep(64)
        self.frame_width.setObjectName("frameWidth")
        self.frame_height.setObjectName("frameHeight")
        size = QHBoxLayout()
        size.addWidget(self.frame_width)
        size.addWidget(QLabel("×"))
        size.addWidget(self.frame_height)
        form.addRow("Default frame size", size)
        form.addRow(_note("The frame of the empty document the studio opens with (sizes snap to 8 px)."))
        return box

    def _appearance(self, preferences: Preferences) -> QGroupBox:
        box = QGroupBox("Appearance")
        form = QFormLayout(box)
        self.theme = _combo("theme", THEMES, preferences.theme)
        form.addRow("Theme", self.theme)
        self.ui_scale = _combo(
            "uiScale",
            {str(scale): f"{round(scale * 100)} %" for scale in UI_SCALES},
            str(preferences.ui_scale),
        )
        form.addRow("Interface size", self.ui_scale)
        form.addRow(_note("The interface size applies the next time Sfumato starts."))
        return box

    def preferences(self) -> Preferences:
        """The preferences as the dialog shows them now."""
        return Preferences(
            device=str(self.device.currentData()),
            memory=str(self.memory.currentData()),
            speed=str(self.speed.currentData()),
            history_mb=self.history.value(),
            autosave_minutes=self.autosave.value(),
            default_model=str(self.model.currentData()),
            frame_width=self.frame_width.value(),
            frame_height=self.frame_height.value(),
            theme=str(self.theme.currentData()),
            ui_scale=float(self.ui_scale.currentData()),
        )
