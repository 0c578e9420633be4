"""The Zoom panel: makes an infinite zoom's keyframes on the engine, shows each as it arrives, plays the
finished zoom and exports it as a video.

Renders go to a folder under the data folder. Cancelling keeps the finished keyframes; Start again
continues from them (settings that changed make the affected keyframes again).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
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

from sfumato.core.api import BadInput, SfumatoError
from sfumato.core.engine import Engine
from sfumato.core.paths import data_dir
from sfumato.core.video import VideoFormat
from sfumato.core.zoom.frames import ZoomRenderer, frame_positions
from sfumato.core.zoom.geometry import zoom_geometry
from sfumato.core.zoom.keyframe_loop import render_keyframes
from sfumato.core.zoom.progress import (
    FrameEncoded,
    KeyframeFinished,
    KeyframeReused,
    KeyframeStep,
    ZoomProgress,
)
from sfumato.core.zoom.render import ZoomVideo, export_zoom
from sfumato.core.zoom.settings import Direction, PromptCue, ZoomSettings, check_settings
from sfumato.desktop.engine_client import EngineClient
from sfumato.desktop.ui.generation_panel import GenerationPanel
from sfumato.desktop.ui.qimage import to_qimage
from sfumato.desktop.ui.widgets import decimal_box, spin_box
from sfumato.desktop.ui.zoom_jobs import ClientJobs

THUMBNAIL = 72
PREVIEW_SIDE = 256
FROM_FRAME = "frame"
FROM_PROMPT = "prompt"
_CUE_AT = re.compile(r"\s*(\d+(?:\.\d*)?)\s*(s?)\s*")

FrameSource = Callable[[], np.ndarray | None]


def parse_prompt_changes(text: str) -> tuple[PromptCue, ...]:
    """`K: prompt` lines (from keyframe K on, 1 being the first) or `Ts: prompt` lines (from T seconds
    into the video on). Blank lines are skipped."""
    cues = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        at, colon, prompt = line.partition(":")
        found = _CUE_AT.fullmatch(at)
        if not colon or found is None or not prompt.strip():
            raise BadInput(
                f'Prompt change line {number} ("{line.strip()}") should look like "3: a castle" (from '
                'keyframe 3 on) or "4.5s: a castle" (from 4.5 seconds on).'
            )
        amount, seconds = found.group(1), found.group(2)
        if seconds:
            cues.append(PromptCue(prompt.strip(), seconds=float(amount)))
        elif "." in amount or int(amount) < 1:
            raise BadInput(
                f'Prompt change line {number} ("{line.strip()}"): keyframes are numbered 1, 2, 3…; '
                'write a time with an "s", like "4.5s: a castle".'
            )
        else:
            cues.append(PromptCue(prompt.strip(), keyframe=int(amount) - 1))
    return tuple(cues)


def flatten_rgb(rgba: np.ndarray) -> np.ndarray:
    """Straight-alpha RGBA on white, as RGB uint8."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def _preview_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, PREVIEW_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


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
        self.client = client
        self.generation = generation
        self.current_frame = current_frame
        self.jobs = ClientJobs(client, self)
        self.folder: Path | None = None
        self.finished_folder: Path | None = None
        self.task: asyncio.Task[None] | None = None
        self.export_task: asyncio.Task[int] | None = None
        self.render_settings: ZoomSettings | None = None
        self.keyframes: list[np.ndarray] = []
        self._renderer: ZoomRenderer | None = None
        self._positions: list[float] = []
        self.preview_frame = 0
        self.preview_timer = QTimer(self)
        self.preview_timer.timeout.connect(self._show_next_frame)
        self._build()

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
            "Optional, one per line, e.g.\n4: a castle  (from keyframe 4)\n6.5s: the sea"
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
        form = QFormLayout()
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
        buttons = QHBoxLayout()
        for button in (self.start_button, self.cancel_button, self.new_button, self.export_button):
            buttons.addWidget(button)

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

    def settings(self) -> ZoomSettings:
        generation = self.generation.settings()
        if not generation.model:
            raise BadInput("Choose a model in the Generate panel first.")
        prompt = self.prompt.toPlainText().strip() or generation.prompt
        cues = parse_prompt_changes(self.prompt_changes.toPlainText())
        return ZoomSettings(
            model=generation.model, prompt=prompt, cues=cues,
            negative=generation.negative, sampler=generation.sampler, steps=generation.steps,
            cfg=generation.cfg, seed=generation.seed, width=self.width_box.value() // 8 * 8,
            height=self.height_box.value() // 8 * 8, direction=Direction(self.direction.currentData()),
            keyframes=self.keyframe_count.value(), factor=self.factor.value(),
            seconds_per_keyframe=self.seconds.value(),
        )  # fmt: skip

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    # ---- rendering -----------------------------------------------------------------------------

    def start(self) -> None:
        """Begin (or continue) the render as a task on the running event loop."""
        if self.running:
            return
        try:
            settings = self.settings()
            check_settings(settings)
        except SfumatoError as error:
            self._show_status(error.message)
            return
        start = None
        if self.start_from.currentData() == FROM_FRAME:
            frame = self.current_frame()
            start = None if frame is None else flatten_rgb(frame) if frame.shape[-1] == 4 else frame
        if self.folder is None or self.folder == self.finished_folder:
            renders = data_dir() / "zoom"
            try:
                renders.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                self._show_status(
                    f'The folder for zoom renders "{renders}" cannot be made: {error.strerror}.'
                )
                return
            self.folder = renders / time.strftime("%Y%m%d-%H%M%S")
        self.stop_preview()
        self.thumbnails.clear()
        self.keyframes = []
        self.render_settings = settings
        self._show_status("Starting…")
        self.task = asyncio.ensure_future(self._render(settings, self.folder, start))
        self._update_buttons()

    async def _render(self, settings: ZoomSettings, folder: Path, start: np.ndarray | None) -> None:
        engine = cast(Engine, self.jobs)  # the loop needs only submit, cancel and events
        try:
            keyframes = await render_keyframes(
                engine, settings, folder, start=start, on_progress=self._on_progress
            )
        except asyncio.CancelledError:
            self._show_status(
                f"Cancelled. {self.thumbnails.count()} keyframes are kept; press Start to continue."
            )
            raise
        except SfumatoError as error:
            self._show_status(error.message)
            return
        finally:
            self._update_buttons_soon()
        self.keyframes = keyframes
        self.finished_folder = folder
        self._show_status(f"Done: {len(keyframes)} keyframes in {folder}. Playing the preview.")
        self.play_preview()
        self.render_done.emit()

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def new_render(self) -> None:
        self.cancel()
        self.folder = None
        self._show_status("The next Start makes a new zoom.")

    def _on_progress(self, event: ZoomProgress) -> None:
        match event:
            case (
                KeyframeReused(index=index, count=count, path=path)
                | KeyframeFinished(index=index, count=count, path=path)
            ):
                self._add_thumbnail(index, path)
                self._show_status(f"Keyframe {index + 1} of {count} ready.")
            case KeyframeStep(index=index, count=count, step=step, steps=steps):
                self._show_status(f"Keyframe {index + 1} of {count}: step {step} of {steps}")
            case FrameEncoded(frame=frame, frames=frames):
                self._show_status(f"Writing the video: frame {frame} of {frames}")

    def _add_thumbnail(self, index: int, path: Path) -> None:
        image = QImage(str(path))
        icon = QPixmap.fromImage(image).scaled(
            THUMBNAIL,
            THUMBNAIL,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        item = QListWidgetItem(QIcon(icon), str(index + 1))
        item.setToolTip(str(path))
        self.thumbnails.addItem(item)
        self.keyframe_shown.emit(index)

    # ---- preview -------------------------------------------------------------------------------

    def play_preview(self) -> None:
        """Play the finished zoom in the panel, looping, at the chosen frames per second."""
        settings = self.render_settings
        if settings is None or len(self.keyframes) < 2:
            return
        geometry = zoom_geometry(
            settings.direction, settings.width, settings.height, settings.factor, settings.mask_blur
        )
        fps = self.fps.value()
        self._renderer = ZoomRenderer(
            self.keyframes, geometry, _preview_size(settings.width, settings.height)
        )
        self._positions = frame_positions(len(self.keyframes), fps, settings.seconds_per_keyframe)
        self.preview_frame = 0
        self.preview_timer.start(max(1, round(1000 / fps)))
        self._show_next_frame()

    def stop_preview(self) -> None:
        self.preview_timer.stop()
        self._renderer = None
        self.preview.clear()

    def _show_next_frame(self) -> None:
        if self._renderer is None or not self._positions:
            return
        index = self.preview_frame % len(self._positions)
        self.preview.setPixmap(QPixmap.fromImage(to_qimage(self._renderer.frame(self._positions[index]))))
        self.preview_frame += 1

    # ---- export --------------------------------------------------------------------------------

    def ask_export(self) -> None:
        if not self.keyframes:
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
        """Write the finished zoom to `path` (format by suffix) in the background; the writing task."""
        settings = self.render_settings
        if settings is None or not self.keyframes:
            self._show_status("Finish a zoom first, then export it.")
            return None
        if not path.suffix:
            path = path.with_suffix(f".{self.video_format.currentData()}")
        video = ZoomVideo((path,), fps=float(self.fps.value()))
        self.export_task = asyncio.ensure_future(self._export(settings, video))
        self._update_buttons()
        return self.export_task

    async def _export(self, settings: ZoomSettings, video: ZoomVideo) -> int:
        """The number of frames written; 0 when the video could not be written (the status says why)."""
        try:
            frames = await export_zoom(self.keyframes, settings, video, self._on_progress)
        except SfumatoError as error:
            self._show_status(error.message)
            return 0
        finally:
            self._update_buttons_soon()
        self._show_status(f"Saved {frames} frames to {video.paths[0]}")
        return frames

    # ---- state ---------------------------------------------------------------------------------

    def _show_status(self, text: str) -> None:
        self.status.setText(text)
        self.message.emit(text)

    def _update_buttons_soon(self) -> None:
        QTimer.singleShot(0, self._update_buttons)

    def _update_buttons(self) -> None:
        exporting = self.export_task is not None and not self.export_task.done()
        self.start_button.setEnabled(not self.running and not exporting)
        self.cancel_button.setEnabled(self.running)
        self.export_button.setEnabled(bool(self.keyframes) and not self.running and not exporting)
