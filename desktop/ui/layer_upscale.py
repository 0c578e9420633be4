"""Layer → Upscale…: enlarge the active layer ×2, ×4 or to a size, with an upscaler model or Lanczos,
optionally redrawn by the current model, as a new layer above it (one undo step), with progress and
cancel. The enlarging and redrawing run in the engine, like a generation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressDialog,
    QRadioButton,
    QWidget,
)

from sfumato.core.api import (
    BadInput,
    Cancelled,
    Event,
    Failed,
    Finished,
    Recipe,
    SfumatoError,
    Step,
    Upscale,
    request_values,
)
from sfumato.core.upscalers.library import LANCZOS, installed_upscalers
from sfumato.desktop.document import Document, Layer
from sfumato.desktop.document.pixel_edits import scaled
from sfumato.desktop.engine_client import EngineClient
from sfumato.desktop.ui.frame_size_dialog import MAX_SIDE, ok_cancel
from sfumato.desktop.ui.widgets import check_box, decimal_box, spin_box

FACTORS = (2, 4)
DEFAULT_STRENGTH = 0.35
REFINE_STEP = 8


@dataclass(frozen=True)
class UpscaleChoice:
    width: int
    height: int
    upscaler: str  # "" for Lanczos
    strength: float  # 0: not redrawn
    prompt: str


class UpscaleDialog(QDialog):
    def __init__(self, layer: Layer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Upscale Layer")
        self._height, self._width = layer.pixels.shape[:2]
        self.factor_buttons = {factor: QRadioButton(f"×{factor}") for factor in FACTORS}
        self.to_size = QRadioButton("To size")
        group = QButtonGroup(self)
        row = QHBoxLayout()
        for button in (*self.factor_buttons.values(), self.to_size):
            group.addButton(button)
            row.addWidget(button)
        self.factor_buttons[2].setChecked(True)
        self.width_box = spin_box(self._width, MAX_SIDE, min(self._width * 2, MAX_SIDE), " px")
        self.height_box = spin_box(self._height, MAX_SIDE, min(self._height * 2, MAX_SIDE), " px")
        size_row = QHBoxLayout()
        size_row.addWidget(self.width_box)
        size_row.addWidget(self.height_box)
        self.upscaler = QComboBox()
        self.upscaler.addItem("Lanczos", "")
        for name in installed_upscalers():
            self.upscaler.addItem(name, name)
        self.refine = check_box("Redraw for detail with the current model")
        self.strength = decimal_box(0.05, 1.0, DEFAULT_STRENGTH, 0.05, 2)
        self.prompt = QLineEdit(layer.recipe.prompt if layer.recipe is not None else "")
        buttons = ok_cancel(self)
        form = QFormLayout(self)
        form.addRow("Enlarge", row)
        form.addRow("Size", size_row)
        form.addRow("Upscaler", self.upscaler)
        form.addRow(self.refine)
        form.addRow("Strength", self.strength)
        form.addRow("Prompt", self.prompt)
        form.addRow(buttons)
        self.to_size.toggled.connect(self._update)
        self.refine.toggled.connect(self._update)
        self._update()

    def _update(self) -> None:
        for box in (self.width_box, self.height_box):
            box.setEnabled(self.to_size.isChecked())
        for widget in (self.strength, self.prompt):
            widget.setEnabled(self.refine.isChecked())

    def choice(self) -> UpscaleChoice:
        if self.to_size.isChecked():
            width, height = self.width_box.value(), self.height_box.value()
        else:
            factor = next(factor for factor, button in self.factor_buttons.items() if button.isChecked())
            width, height = self._width * factor, self._height * factor
        strength = self.strength.value() if self.refine.isChecked() else 0.0
        if strength:  # a redrawn picture's sides are multiples of 8, like every generated one
            width, height = (
                max(width // REFINE_STEP, 1) * REFINE_STEP,
                max(height // REFINE_STEP, 1) * REFINE_STEP,
            )
        upscaler = str(self.upscaler.currentData() or "")
        return UpscaleChoice(width, height, upscaler, strength, self.prompt.text().strip())


def upscale_job(layer: Layer, choice: UpscaleChoice, model: str) -> Upscale:
    """The engine job for `choice`: the layer's colours, its recipe kept in the result's."""
    if max(choice.width, choice.height) > MAX_SIDE:
        raise BadInput(
            f"The upscaled layer would be {choice.width}×{choice.height}; at most {MAX_SIDE} px a side."
        )
    if choice.strength and not choice.prompt:
        raise BadInput("Redrawing the upscaled layer needs a prompt: say what the layer shows.")
    if choice.strength and not model:
        raise BadInput("Redrawing the upscaled layer needs a model: choose one in the Generate panel.")
    recipe = layer.recipe
    settings = request_values(recipe or Recipe(prompt="")) | {"width": choice.width, "height": choice.height}
    if choice.prompt:
        settings["prompt"] = choice.prompt
    settings["upscaler"] = choice.upscaler or LANCZOS  # the job's upscaler, not the recipe's hires one
    return Upscale(
        **settings,
        model=model if choice.strength else "",
        init=np.ascontiguousarray(layer.pixels[..., :3]),
        strength=choice.strength,
        recipe=recipe,
    )


class LayerUpscaler(QObject):
    """Follows one upscale job at a time and lands its result above the layer it came from."""

    message = Signal(str)
    error = Signal(str)

    def __init__(self, client: EngineClient, parent: QWidget) -> None:
        super().__init__(parent)
        self.client = client
        self._parent = parent
        self.job_id: str | None = None
        self.progress: QProgressDialog | None = None
        self._source: tuple[Document, Layer] | None = None
        self.dialog: UpscaleDialog | None = None
        client.engine_event.connect(self._on_event)

    def ask(self, document: Document, model: str) -> UpscaleDialog:
        """Open the Upscale dialog for the active layer; OK starts the upscale with `model` for redrawing."""
        layer = document.active_layer
        if layer is None or not layer.pixels[..., 3].any():
            raise BadInput("Choose a layer with something on it to upscale.")
        if self.busy:
            raise BadInput("A layer is being upscaled already; wait for it or cancel it.")
        self.dialog = UpscaleDialog(layer, self._parent)
        self.dialog.accepted.connect(
            lambda: self._start_guarded(document, layer, self.dialog.choice(), model)
        )
        self.dialog.open()
        return self.dialog

    def _start_guarded(self, document: Document, layer: Layer, choice: UpscaleChoice, model: str) -> None:
        try:
            self.start(document, layer, choice, model)
        except SfumatoError as error:
            self.error.emit(error.message)

    def start(self, document: Document, layer: Layer, choice: UpscaleChoice, model: str) -> str:
        """Queue the upscale; raises SfumatoError when it cannot run as chosen."""
        job = upscale_job(layer, choice, model)
        self.job_id = self.client.submit(job)
        self._source = (document, layer)
        self.progress = QProgressDialog("Upscaling…", "Cancel", 0, 100, self._parent)
        self.progress.setWindowTitle("Upscale Layer")
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.setMinimumDuration(0)
        self.progress.canceled.connect(self.cancel)
        self.progress.setValue(0)
        return self.job_id

    def cancel(self) -> None:
        if self.job_id is not None:
            self.client.cancel(self.job_id)

    @property
    def busy(self) -> bool:
        return self.job_id is not None

    def _on_event(self, event: Event) -> None:
        if event.job_id != self.job_id:
            return
        match event:
            case Step(step=step, total=total) if self.progress is not None:
                self.progress.setValue(int(100 * step / max(total, 1)))
            case Finished(images=images, recipes=recipes) if images:
                self._land(images[0], recipes[0])
            case Failed(message=message):
                self._close()
                self.error.emit(message)
            case Cancelled():
                self._close()
                self.message.emit("Upscale cancelled")
            case _:
                pass

    def _land(self, image: np.ndarray, recipe: Recipe) -> None:
        source = self._source
        self._close()
        if source is None:
            return
        document, layer = source
        height, width = image.shape[:2]
        alpha = scaled(layer.pixels, width, height)[..., 3]
        rgba = np.dstack([image, alpha])
        name = f"{layer.name} {width}×{height}"
        if layer in document.layers:
            document.set_active_layer(layer)  # the result goes right above its source
        added = document.add_generated_layer(rgba, recipe, x=layer.x, y=layer.y, name=name)
        self.message.emit(f"Added layer '{added.name}'")

    def _close(self) -> None:
        self.job_id, self._source = None, None
        if self.progress is not None:
            self.progress.canceled.disconnect(self.cancel)
            self.progress.close()
            self.progress = None
