"""The Generate panel: model, prompts, mode and sampling settings, the Generate and Cancel buttons,
progress, and the candidates of a batch to step through, keep or discard."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from sfumato.core.api import DEFAULT_SAMPLER, Mode, Recipe
from sfumato.desktop.ui.generation_plan import GenerationSettings
from sfumato.desktop.ui.model_picker import ModelPicker
from sfumato.desktop.ui.prompt_highlighter import PromptHighlighter
from sfumato.desktop.ui.widgets import check_box, decimal_box, spin_box, tool_button

MAX_SEED = 2**31 - 1
AUTOMATIC = "auto"


def _prompt_box(name: str, placeholder: str, lines: int) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setObjectName(name)
    box.setPlaceholderText(placeholder)
    box.setTabChangesFocus(True)
    box.setFixedHeight(box.fontMetrics().lineSpacing() * lines + 14)
    PromptHighlighter(box.document())
    return box


class CandidatesBox(QGroupBox):
    """Shown while a batch's images wait to be kept or discarded."""

    step = Signal(int)
    keep = Signal()
    keep_all = Signal()
    discard = Signal()
    discard_all = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Candidates", parent)
        self.label = QLabel()
        previous = tool_button("◀", "Previous candidate")
        following = tool_button("▶", "Next candidate")
        previous.clicked.connect(lambda: self.step.emit(-1))
        following.clicked.connect(lambda: self.step.emit(+1))
        self.keep_button = QPushButton("Keep")
        self.keep_button.setToolTip("Add this candidate as a layer")
        keep_all = QPushButton("Keep all")
        self.discard_button = QPushButton("Discard")
        discard_all = QPushButton("Discard all")
        self.keep_button.clicked.connect(self.keep)
        keep_all.clicked.connect(self.keep_all)
        self.discard_button.clicked.connect(self.discard)
        discard_all.clicked.connect(self.discard_all)
        top = QHBoxLayout()
        top.addWidget(previous)
        top.addWidget(self.label, 1, Qt.AlignmentFlag.AlignCenter)
        top.addWidget(following)
        buttons = QHBoxLayout()
        for button in (self.keep_button, keep_all, self.discard_button, discard_all):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(buttons)

    def show_position(self, index: int, count: int) -> None:
        self.label.setText(f"{index + 1} of {count}")
        self.setVisible(count > 0)


class GenerationPanel(QWidget):
    generate_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generationPanel")
        self.models = ModelPicker()
        self.prompt = _prompt_box(
            "prompt", "Describe the picture, e.g. a lighthouse at dusk, (oil paint:1.2)", 4
        )
        self.negative = _prompt_box("negative", "What to avoid, e.g. blurry, text", 2)
        self.mode = QComboBox()
        self.mode.addItem("Automatic", AUTOMATIC)
        for mode in Mode:
            self.mode.addItem(mode.value, mode.value)
        self.sampler = QComboBox()
        self.sampler.addItem(DEFAULT_SAMPLER)
        self.steps = spin_box(1, 150, 20)
        self.cfg = decimal_box(1.0, 30.0, 7.0, step=0.5, decimals=1)
        self.seed = spin_box(0, MAX_SEED, 0)
        self.random_seed = check_box("Random", checked=True)
        self.random_seed.toggled.connect(lambda random: self.seed.setEnabled(not random))
        self.seed.setEnabled(False)
        self.reuse_seed = tool_button("Reuse last", "Use the seed of the last generation")
        self.reuse_seed.setEnabled(False)
        self.reuse_seed.clicked.connect(self._reuse_last_seed)
        self.last_seed: int | None = None
        self.strength = decimal_box(0.0, 1.0, 0.75, step=0.05, decimals=2)
        self.strength.setToolTip("How much of the picture under the frame may change (img2img and inpaint)")
        self.mask_blur = spin_box(0, 64, 4, suffix=" px")
        self.batch = spin_box(1, 16, 1)
        self.only_masked = check_box("Only masked area at full resolution")
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generate")
        self.generate_button.setToolTip("Generate into the frame (Ctrl+Enter)")
        self.generate_button.clicked.connect(self.generate_requested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running generation (Esc)")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.candidates = CandidatesBox()
        self.candidates.hide()
        self._build_layout()

    def _build_layout(self) -> None:
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.random_seed)
        seed_row.addWidget(self.reuse_seed)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Mode", self.mode)
        form.addRow("Sampler", self.sampler)
        form.addRow("Steps", self.steps)
        form.addRow("CFG scale", self.cfg)
        form.addRow("Seed", seed_row)
        form.addRow("Strength", self.strength)
        form.addRow("Mask blur", self.mask_blur)
        form.addRow("Batch", self.batch)
        form.addRow("", self.only_masked)
        fields = QWidget()
        fields.setObjectName("generationFields")
        column = QVBoxLayout(fields)
        column.setContentsMargins(0, 0, 4, 0)
        column.addWidget(QLabel("Model"))
        column.addWidget(self.models)
        column.addWidget(QLabel("Prompt"))
        column.addWidget(self.prompt)
        column.addWidget(QLabel("Negative prompt"))
        column.addWidget(self.negative)
        column.addLayout(form)
        column.addStretch(1)
        # The settings scroll when the dock is short; Generate, progress and candidates stay in view.
        scroll = QScrollArea()
        scroll.setWidget(fields)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.candidates)

    # ---- settings ------------------------------------------------------------------------------

    def settings(self) -> GenerationSettings:
        mode = self.mode.currentData()
        return GenerationSettings(
            model=self.models.model(),
            prompt=self.prompt.toPlainText(),
            negative=self.negative.toPlainText(),
            sampler=self.sampler.currentText(),
            steps=self.steps.value(),
            cfg=self.cfg.value(),
            seed=-1 if self.random_seed.isChecked() else self.seed.value(),
            strength=self.strength.value(),
            mask_blur=self.mask_blur.value(),
            batch=self.batch.value(),
            only_masked=self.only_masked.isChecked(),
            mode=None if mode == AUTOMATIC else Mode(mode),
        )

    def set_samplers(self, names: list[str]) -> None:
        current = self.sampler.currentText()
        self.sampler.clear()
        self.sampler.addItems(names)
        if current in names:
            self.sampler.setCurrentText(current)

    def set_automatic_mode(self, mode: Mode) -> None:
        """Show what Automatic would do for the frame as it is now."""
        self.mode.setItemText(0, f"Automatic ({mode.value})")

    def set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        if not running:
            self.progress.setValue(0)
            self.progress.setFormat("")

    def set_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(round(fraction * 1000))
        self.progress.setFormat(text)

    def remember_seed(self, seed: int) -> None:
        self.last_seed = seed
        self.reuse_seed.setEnabled(True)
        self.reuse_seed.setToolTip(f"Use the seed of the last generation ({seed})")

    def _reuse_last_seed(self) -> None:
        if self.last_seed is not None:
            self.random_seed.setChecked(False)
            self.seed.setValue(min(self.last_seed, MAX_SEED))

    def apply_recipe(self, recipe: Recipe) -> None:
        """Fill the panel from a generated layer's recipe, its seed fixed, ready to tweak and run."""
        self.restore(
            {
                "prompt": recipe.prompt,
                "negative": recipe.negative,
                "sampler": recipe.sampler,
                "steps": recipe.steps,
                "cfg": recipe.cfg,
                "seed": min(recipe.seed, MAX_SEED),
                "random_seed": False,
                **({"strength": recipe.strength} if recipe.strength is not None else {}),
                **({"mask_blur": recipe.mask_blur} if recipe.mask_blur is not None else {}),
            }
        )
        if recipe.model in self.models.models():
            self.models.select(recipe.model)

    def state(self) -> dict[str, Any]:
        """The panel's values, to restore next time."""
        return {
            "model": self.models.model(),
            "prompt": self.prompt.toPlainText(),
            "negative": self.negative.toPlainText(),
            "sampler": self.sampler.currentText(),
            "steps": self.steps.value(),
            "cfg": self.cfg.value(),
            "seed": self.seed.value(),
            "random_seed": self.random_seed.isChecked(),
            "strength": self.strength.value(),
            "mask_blur": self.mask_blur.value(),
            "batch": self.batch.value(),
            "only_masked": self.only_masked.isChecked(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Put back values from `state()`; anything missing or of the wrong type keeps its default."""

        def value(key: str, kind: type | tuple[type, ...]) -> Any:
            item = state.get(key)
            return item if isinstance(item, kind) and (kind is bool or not isinstance(item, bool)) else None

        if (text := value("prompt", str)) is not None:
            self.prompt.setPlainText(text)
        if (text := value("negative", str)) is not None:
            self.negative.setPlainText(text)
        if (sampler := value("sampler", str)) is not None:
            if self.sampler.findText(sampler) < 0:
                self.sampler.addItem(sampler)
            self.sampler.setCurrentText(sampler)
        for key, box in (("steps", self.steps), ("seed", self.seed), ("mask_blur", self.mask_blur)):
            if (number := value(key, int)) is not None:
                box.setValue(number)
        if (batch := value("batch", int)) is not None:
            self.batch.setValue(batch)
        for key, spin in (("cfg", self.cfg), ("strength", self.strength)):
            if (number := value(key, (int, float))) is not None:
                spin.setValue(float(number))
        for key, check in (("random_seed", self.random_seed), ("only_masked", self.only_masked)):
            if (flag := value(key, bool)) is not None:
                check.setChecked(flag)
