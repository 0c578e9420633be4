"""The Generate panel: model, prompts, mode and the most used sampling settings, the rest in a
collapsible Advanced section, the Generate and Cancel buttons and progress. The candidates of a batch
live in their own strip (`candidates_strip`), shown by the main window."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sfumato.core.api import DEFAULT_SAMPLER, Mode, Recipe, request_fields, setting_of
from sfumato.desktop.ui.addon_names import AddonDirectory
from sfumato.desktop.ui.addon_prompt import AddonPicker, PromptEdit
from sfumato.desktop.ui.candidates_strip import CandidatesBox
from sfumato.desktop.ui.generation_plan import GenerationSettings, mode_uses, recipe_values
from sfumato.desktop.ui.model_picker import ModelPicker
from sfumato.desktop.ui.offer_bar import OfferBar
from sfumato.desktop.ui.token_counter import TokenCounter
from sfumato.desktop.ui.widget_values import read_value, write_value
from sfumato.desktop.ui.widgets import check_box, decimal_box, spin_box, tool_button

MAX_SEED = 2**31 - 1
AUTOMATIC = "auto"
_REQUEST_FIELDS = {declared.name: declared for declared in request_fields()}


def _prompt_box(name: str, placeholder: str, lines: int, addons: AddonDirectory) -> PromptEdit:
    """A prompt box `lines` high, growing to three times that where the panel has room."""
    box = PromptEdit(addons)
    box.setObjectName(name)
    box.setPlaceholderText(placeholder)
    box.setTabChangesFocus(True)
    box.setMinimumHeight(box.fontMetrics().lineSpacing() * lines + 14)
    box.setMaximumHeight(box.fontMetrics().lineSpacing() * lines * 3 + 14)
    TokenCounter(box)
    return box


class _WidthFirstColumn(QVBoxLayout):
    """A column the scroll area sizes to its viewport: with wrapped labels inside, a height-for-width
    layout would be given its preferred height, and the prompt boxes would never shrink before the
    panel scrolls."""

    def hasHeightForWidth(self) -> bool:
        return False


class GenerationPanel(QWidget):
    generate_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generationPanel")
        self.models = ModelPicker()
        self.addons = AddonDirectory()
        self.prompt = _prompt_box(
            "prompt", "Describe the picture, e.g. a lighthouse at dusk, (oil paint:1.2)", 3, self.addons
        )
        self.negative = _prompt_box("negative", "What to avoid, e.g. blurry, text", 2, self.addons)
        self.addon_picker = AddonPicker(self.prompt)
        self.prompt_problem = QLabel()  # why the prompt cannot be used, until it is edited
        self.prompt_problem.setObjectName("promptProblem")
        self.prompt_problem.setWordWrap(True)
        self.prompt_problem.setStyleSheet("color: rgb(235, 110, 100);")
        self.prompt_problem.hide()
        for box in (self.prompt, self.negative):
            box.textChanged.connect(self.prompt_problem.hide)
        self.mode = QComboBox()
        self.mode.addItem("Automatic", AUTOMATIC)
        for mode in Mode:
            self.mode.addItem(mode.value, mode.value)
        self.automatic_mode = Mode.TXT2IMG
        self.mode_note = QLabel()
        self.mode_note.setObjectName("modeNote")
        self.mode_note.setWordWrap(True)
        self.mode.currentIndexChanged.connect(lambda _index: self.show_mode_uses())
        self.sampler = QComboBox()
        self.sampler.addItem(DEFAULT_SAMPLER)
        self.steps = spin_box(1, 150, 20)
        self.cfg = decimal_box(1.0, 30.0, 7.0, step=0.5, decimals=1)
        self.seed = spin_box(0, MAX_SEED, 0)
        self.random_seed = check_box("Random", checked=True)
        self.random_seed.toggled.connect(lambda random: self.seed.setEnabled(not random))
        self.seed.setEnabled(False)
        self.reuse_seed = tool_button("Reuse", "Use the seed of the last generation")
        self.reuse_seed.setEnabled(False)
        self.reuse_seed.clicked.connect(self._reuse_last_seed)
        self.last_seed: int | None = None
        self.strength = decimal_box(0.0, 1.0, 0.75, step=0.05, decimals=2)
        self.strength.setToolTip("How much of the picture under the frame may change (img2img and inpaint)")
        self.mask_blur = spin_box(0, 64, 4, suffix=" px")
        self.strength.valueChanged.connect(lambda _value: self.show_mode_uses())
        self.mask_blur.valueChanged.connect(lambda _value: self.show_mode_uses())
        self.batch = spin_box(1, 16, 1)
        self.only_masked = check_box("Only masked area at full resolution")
        self.advanced = _advanced_boxes()
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generate")
        self.generate_button.setToolTip("Generate into the frame (Ctrl+Enter)")
        self.generate_button.clicked.connect(self.generate_requested)
        self.strategy = QLabel()  # e.g. "64 → 256 with hires fix", for a frame beyond the model's size
        self.strategy.setObjectName("hiresStrategy")
        self.strategy.setToolTip(
            "The frame is larger than the model draws well: it is drawn at the model's size first,"
            " then enlarged and redrawn"
        )
        self.strategy.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running generation (Esc)")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.candidates = CandidatesBox()  # placed by the main window, in its own dock
        self.candidates.hide()
        self.offers = OfferBar()  # e.g. a model's native size for the frame, a dropped PNG's recipe
        # The panel's values by name: the settings' fields, plus "random_seed".
        self.values: dict[str, QWidget] = {
            "prompt": self.prompt, "negative": self.negative, "sampler": self.sampler,
            "steps": self.steps, "cfg": self.cfg, "seed": self.seed, "random_seed": self.random_seed,
            "strength": self.strength, "mask_blur": self.mask_blur, "batch": self.batch,
            "only_masked": self.only_masked, **self.advanced,
        }  # fmt: skip
        self._build_layout()

    def _build_layout(self) -> None:
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.random_seed)
        seed_row.addWidget(self.reuse_seed)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        mode_column = QVBoxLayout()  # the note right under its box (a form row would pad it)
        mode_column.setSpacing(2)
        mode_column.addWidget(self.mode)
        mode_column.addWidget(self.mode_note)
        form.addRow("Mode", mode_column)
        form.addRow("Sampler", self.sampler)
        steps_row = QHBoxLayout()
        steps_row.addWidget(self.steps, 1)
        steps_row.addWidget(QLabel("CFG"))
        steps_row.addWidget(self.cfg, 1)
        form.addRow("Steps", steps_row)
        form.addRow("Seed", seed_row)
        strength_row = QHBoxLayout()
        strength_row.addWidget(self.strength, 1)
        strength_row.addWidget(QLabel("Batch"))
        strength_row.addWidget(self.batch, 1)
        form.addRow("Strength", strength_row)
        self.advanced_section = QWidget()
        self.advanced_section.setObjectName("advancedSettings")
        advanced_form = QFormLayout(self.advanced_section)
        advanced_form.setContentsMargins(12, 0, 0, 0)
        advanced_form.addRow("Mask blur", self.mask_blur)
        advanced_form.addRow("", self.only_masked)
        for name, box in self.advanced.items():
            advanced_form.addRow(setting_of(_REQUEST_FIELDS[name]).label, box)
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setObjectName("advancedToggle")
        self.advanced_toggle.setText("Advanced")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setAutoRaise(True)
        self.advanced_toggle.toggled.connect(self.show_advanced)
        self.show_advanced(False)
        fields = QWidget()
        fields.setObjectName("generationFields")
        column = _WidthFirstColumn(fields)
        column.setContentsMargins(0, 0, 4, 0)
        column.setSpacing(4)
        model_row = QHBoxLayout()
        model_row.addWidget(QLabel("Model"))
        model_row.addWidget(self.models, 1)
        column.addLayout(model_row)
        prompt_row = QHBoxLayout()
        prompt_row.addWidget(QLabel("Prompt"), 1)
        prompt_row.addWidget(self.addon_picker)
        column.addLayout(prompt_row)
        column.addWidget(self.prompt, 3)
        column.addWidget(self.prompt_problem)
        column.addWidget(QLabel("Negative prompt"))
        column.addWidget(self.negative, 1)
        column.addLayout(form)
        column.addWidget(self.advanced_toggle)
        column.addWidget(self.advanced_section)
        column.addStretch(1)
        # The settings scroll when the dock is short; Generate and progress stay in view.
        self.settings_scroll = QScrollArea()
        self.settings_scroll.setWidget(fields)
        self.settings_scroll.setWidgetResizable(True)
        self.settings_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.settings_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addWidget(self.settings_scroll, 1)
        layout.addWidget(self.offers)
        layout.addWidget(self.strategy)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        self.show_mode_uses()

    def show_advanced(self, shown: bool) -> None:
        """Open or close the Advanced section."""
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        if self.advanced_toggle.isChecked() != shown:
            self.advanced_toggle.setChecked(shown)
        self.advanced_section.setVisible(shown)

    # ---- settings ------------------------------------------------------------------------------

    def settings(self) -> GenerationSettings:
        values = {name: read_value(widget) for name, widget in self.values.items()}
        if values.pop("random_seed"):
            values["seed"] = -1
        mode = self.mode.currentData()
        return GenerationSettings(
            **values, model=self.models.model(), mode=None if mode == AUTOMATIC else Mode(mode)
        )

    def show_prompt_problem(self, message: str) -> None:
        """Say under the prompt why it cannot be used (an unknown LoRA, say); editing hides it."""
        self.prompt_problem.setText(message)
        self.prompt_problem.show()

    def set_samplers(self, names: list[str]) -> None:
        current = self.sampler.currentText()
        self.sampler.clear()
        self.sampler.addItems(names)
        if current in names:
            self.sampler.setCurrentText(current)

    def set_automatic_mode(self, mode: Mode) -> None:
        """Show what Automatic would do for the frame as it is now."""
        self.automatic_mode = mode
        self.mode.setItemText(0, f"Automatic ({mode.value})")
        self.show_mode_uses()

    def show_mode_uses(self) -> None:
        """Say under Mode which strength and mask blur the chosen mode will use."""
        chosen = self.mode.currentData()
        mode = self.automatic_mode if chosen in (AUTOMATIC, None) else Mode(chosen)
        self.mode_note.setText(mode_uses(mode, self.strength.value(), self.mask_blur.value()))

    def show_strategy(self, text: str) -> None:
        """Say above Generate how the frame will be drawn; "" hides the line."""
        self.strategy.setText(text)
        self.strategy.setVisible(bool(text))

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
        if recipe.model in self.models.models():
            self.models.select(recipe.model)  # first: the model's defaults must not replace the recipe's
        self.restore(recipe_values(recipe) | {"random_seed": False})

    def state(self) -> dict[str, Any]:
        """The panel's values, to restore next time."""
        return {"model": self.models.model()} | {name: read_value(box) for name, box in self.values.items()}

    def restore(self, state: dict[str, Any]) -> None:
        """Put back values from `state()`; anything missing or of the wrong type keeps its default."""
        for name, widget in self.values.items():
            if name in state:
                write_value(widget, state[name])


def _advanced_boxes() -> dict[str, QSpinBox]:
    """A spin box for each generation setting declared as advanced, by field name."""
    boxes: dict[str, QSpinBox] = {}
    for name, declared in _REQUEST_FIELDS.items():
        how = setting_of(declared)
        if how.advanced:
            assert how.minimum is not None and how.maximum is not None, f"{name} needs a declared range"
            assert isinstance(declared.default, int), f"{name} needs a whole-number default"
            boxes[name] = spin_box(int(how.minimum), int(how.maximum), declared.default)
            boxes[name].setObjectName(name)
            boxes[name].setToolTip(how.help)
    return boxes
