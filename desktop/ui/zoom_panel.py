"""The Zoom panel: the settings of an infinite zoom, Start/Cancel, each keyframe as a thumbnail as it
arrives, the finished zoom playing, and Export…. The rendering is the controller's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from sfumato.core.api import SfumatoError
from sfumato.core.video import VideoFormat
from sfumato.core.zoom.settings import Direction, ZoomSettings, check_settings
from sfumato.desktop.engine_client import EngineClient
from sfumato.desktop.ui.generation_panel import GenerationPanel
from sfumato.desktop.ui.widgets import decimal_box, spin_box
from sfumato.desktop.ui.zoom_controller import ZoomController
from sfumato.desktop.ui.zoom_plan import FROM_FRAME, FROM_PROMPT, ZoomForm, start_image, zoom_settings
from sfumato.desktop.ui.zoom_player import PREVIEW_SIDE, ZoomPlayer

THUMBNAIL = 72

FrameSource = Callable[[], np.ndarray | None]


class ZoomPanel(QWidget):
    """Settings, Start/Cancel, keyframe thumbnails, a playing preview and Export…."""

    keyframe_shown = Signal(int)
    render_done = Signal()
    message = Signal(str)

    def __init__(
        self,
        client: EngineClient,
        generation: GenerationPanel,
        current_frame: FrameSource,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.generation = generation
        self.current_frame = current_frame
        self.controller = ZoomController(client, self)
        self._build()
        self.player = ZoomPlayer(self.preview, self)
        self.controller.status.connect(self._show_status)
        self.controller.keyframe_ready.connect(self._add_thumbnail)
        self.controller.render_done.connect(self._on_render_done)
        self.controller.busy_changed.connect(self._update_buttons)

    # ---- building ------------------------------------------------------------------------------

    def _build(self) -> None:
        self.direction = QComboBox()
        self.direction.addItem("Zoom out (paint new borders)", Direction.OUT.value)
        self.direction.addItem("Zoom in (redraw enlarged middles)", Direction.IN.value)
        self.keyframe_count = spin_box(2, 200, 8)
        self.factor = decimal_box(1.1, 8.0, 2.0, step=0.1, decimals=2)
        self.seconds = decimal_box(0.1, 30.0, 1.0, step=0.1, decimals=1)
        self.fps = spin_box(1, 60, 30)
        self.width_box = spin_box(16, 2048, 512, " px")
        self.height_box = spin_box(16, 2048, 512, " px")
        for box in (self.width_box, self.height_box):
            box.setSingleStep(8)
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText("What the zoom shows")
        self.prompt.setFixedHeight(54)
        self.prompt_changes = QPlainTextEdit()
        self.prompt_changes.setPlaceholderText(
            "Optional, one per line, e.g.\n4: a castle  (from keyframe 4; 0 is the first)\n6.5s: the sea"
        )
        self.prompt_changes.setFixedHeight(54)
        self.start_from = QComboBox()
        self.start_from.addItem("Current frame contents", FROM_FRAME)
        self.start_from.addItem("Prompt only", FROM_PROMPT)
        self.video_format = QComboBox()
        for video_format in VideoFormat:
            self.video_format.addItem(video_format.value.upper(), video_format.value)

        size = QHBoxLayout()
        size.addWidget(self.width_box)
        size.addWidget(QLabel("×"))
        size.addWidget(self.height_box)
        for combo in (self.direction, self.start_from, self.video_format):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)  # the dock may be narrow: long items elide
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Direction", self.direction)
        form.addRow("Start from", self.start_from)
        form.addRow("Prompt", self.prompt)
        form.addRow("Prompt changes", self.prompt_changes)
        form.addRow("Keyframes", self.keyframe_count)
        form.addRow("Zoom per keyframe", self.factor)
        form.addRow("Seconds per keyframe", self.seconds)
        form.addRow("Frames per second", self.fps)
        form.addRow("Keyframe size", size)
        form.addRow("Video format", self.video_format)

        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.new_button = QPushButton("New Render")
        self.new_button.setToolTip("Forget the current render folder and start the next zoom afresh")
        self.new_button.clicked.connect(self.new_render)
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self.ask_export)
        buttons = QGridLayout()
        for index, button in enumerate(
            (self.start_button, self.cancel_button, self.new_button, self.export_button)
        ):
            buttons.addWidget(button, index // 2, index % 2)

        self.status = QLabel("Set up the zoom, then press Start.")
        self.status.setWordWrap(True)
        self.thumbnails = QListWidget()
        self.thumbnails.setViewMode(QListWidget.ViewMode.IconMode)
        self.thumbnails.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.thumbnails.setFlow(QListWidget.Flow.LeftToRight)
        self.thumbnails.setWrapping(False)
        self.thumbnails.setFixedHeight(THUMBNAIL + 36)
        self.preview = QLabel()
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumHeight(PREVIEW_SIDE // 2)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.thumbnails)
        layout.addWidget(self.preview, 1)
        scroll = QScrollArea()  # lets the dock be smaller than all the settings
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._update_buttons()

    # ---- settings ------------------------------------------------------------------------------

    def prefill(self, frame_size: tuple[int, int] | None = None) -> None:
        """Take the prompt from the Generate panel (when this one has none) and the size of the frame."""
        if not self.prompt.toPlainText().strip():
            self.prompt.setPlainText(self.generation.prompt.toPlainText())
        if frame_size is not None:
            self.width_box.setValue(max(16, frame_size[0] // 8 * 8))
            self.height_box.setValue(max(16, frame_size[1] // 8 * 8))

    def form(self) -> ZoomForm:
        return ZoomForm(
            prompt=self.prompt.toPlainText(), prompt_changes=self.prompt_changes.toPlainText(),
            direction=Direction(self.direction.currentData()), keyframes=self.keyframe_count.value(),
            factor=self.factor.value(), seconds_per_keyframe=self.seconds.value(),
            width=self.width_box.value(), height=self.height_box.value(),
        )  # fmt: skip

    def settings(self) -> ZoomSettings:
        return zoom_settings(self.form(), self.generation.settings())

    @property
    def running(self) -> bool:
        return self.controller.running

    # ---- actions -------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin (or continue) the render."""
        if self.running:
            return
        try:
            settings = self.settings()
            check_settings(settings)
        except SfumatoError as error:
            self._show_status(error.message)
            return
        from_frame = self.start_from.currentData() == FROM_FRAME
        self.player.stop()
        self.thumbnails.clear()
        self.controller.start(settings, start_image(self.current_frame()) if from_frame else None)

    def cancel(self) -> None:
        self.controller.cancel()

    def new_render(self) -> None:
        self.controller.new_render()

    def ask_export(self) -> None:
        if not self.controller.keyframes:
            self._show_status("Finish a zoom first, then export it.")
            return
        suffix = str(self.video_format.currentData())
        path, _filter = QFileDialog.getSaveFileName(
            self,
            "Export Zoom Video",
            str(Path.home() / f"zoom.{suffix}"),
            f"{suffix.upper()} video (*.{suffix})",
        )
        if path:
            self.export(Path(path))

    def export(self, path: Path) -> asyncio.Task[int] | None:
        """Write the finished zoom to `path` (the chosen format when it has no suffix); the writing task."""
        if not path.suffix:
            path = path.with_suffix(f".{self.video_format.currentData()}")
        return self.controller.export(path, self.fps.value())

    # ---- showing -------------------------------------------------------------------------------

    def _add_thumbnail(self, index: int, path: Path) -> None:
        icon = QPixmap.fromImage(QImage(str(path))).scaled(
            THUMBNAIL,
            THUMBNAIL,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        item = QListWidgetItem(QIcon(icon), str(index))
        item.setToolTip(str(path))
        self.thumbnails.addItem(item)
        self.keyframe_shown.emit(index)

    def _on_render_done(self) -> None:
        settings = self.controller.settings
        if settings is not None:
            self.player.play(self.controller.keyframes, settings, self.fps.value())
        self.render_done.emit()

    def _show_status(self, text: str) -> None:
        self.status.setText(text)
        self.message.emit(text)

    def _update_buttons(self) -> None:
        running, exporting = self.controller.running, self.controller.exporting
        self.start_button.setEnabled(not running and not exporting)
        self.cancel_button.setEnabled(running)
        self.export_button.setEnabled(bool(self.controller.keyframes) and not running and not exporting)
