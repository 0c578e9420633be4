"""Runs the Zoom panel's renders: keyframes on the studio's engine (so they show in its queue like any
other job), into a render folder that a cancelled render continues from, then exports the video.

Renders go to a folder under the data folder. Cancelling keeps the finished keyframes; Start again
continues from them (settings that changed make the affected keyframes again).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from sfumato.core.api import SfumatoError
from sfumato.core.job_runner import JobRunner
from sfumato.core.zoom.keyframe_loop import render_keyframes
from sfumato.core.zoom.progress import (
    FrameEncoded,
    KeyframeFinished,
    KeyframeReused,
    KeyframeStep,
    ZoomProgress,
)
from sfumato.core.zoom.render import ZoomVideo, export_zoom
from sfumato.core.zoom.settings import ZoomSettings
from sfumato.desktop.ui.zoom_plan import new_render_folder


class ZoomController(QObject):
    status = Signal(str)
    keyframe_ready = Signal(int, object)  # index, path of its PNG
    render_done = Signal()
    busy_changed = Signal()  # a render or an export started or ended

    def __init__(self, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.folder: Path | None = None
        self.finished_folder: Path | None = None
        self.task: asyncio.Task[None] | None = None
        self.export_task: asyncio.Task[int] | None = None
        self.settings: ZoomSettings | None = None
        self.keyframes: list[np.ndarray] = []

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def exporting(self) -> bool:
        return self.export_task is not None and not self.export_task.done()

    # ---- rendering -----------------------------------------------------------------------------

    def start(self, settings: ZoomSettings, start: np.ndarray | None) -> None:
        """Begin (or continue, in the same folder) the render as a task on the running event loop."""
        if self.running:
            return
        if self.folder is None or self.folder == self.finished_folder:
            try:
                self.folder = new_render_folder()
            except SfumatoError as error:
                self.status.emit(error.message)
                return
        self.keyframes = []
        self.settings = settings
        self.status.emit("Starting…")
        self.task = asyncio.ensure_future(self._render(settings, self.folder, start))
        self.busy_changed.emit()

    async def _render(self, settings: ZoomSettings, folder: Path, start: np.ndarray | None) -> None:
        shown = 0

        def on_progress(event: ZoomProgress) -> None:
            nonlocal shown
            shown += isinstance(event, KeyframeReused | KeyframeFinished)
            self._on_progress(event)

        try:
            keyframes = await render_keyframes(
                self.runner, settings, folder, start=start, on_progress=on_progress
            )
        except asyncio.CancelledError:
            self.status.emit(f"Cancelled. {shown} keyframes are kept; press Start to continue.")
            raise
        except SfumatoError as error:
            self.status.emit(error.message)
            return
        finally:
            self._busy_changed_soon()
        self.keyframes = keyframes
        self.finished_folder = folder
        self.status.emit(f"Done: {len(keyframes)} keyframes in {folder}. Playing the preview.")
        self.render_done.emit()

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def new_render(self) -> None:
        self.cancel()
        self.folder = None
        self.status.emit("The next Start makes a new zoom.")

    def _on_progress(self, event: ZoomProgress) -> None:
        match event:
            case (
                KeyframeReused(index=index, count=count, path=path)
                | KeyframeFinished(index=index, count=count, path=path)
            ):
                self.keyframe_ready.emit(index, path)
                self.status.emit(f"Keyframe {index + 1} of {count} ready.")
            case KeyframeStep(index=index, count=count, step=step, steps=steps):
                self.status.emit(f"Keyframe {index + 1} of {count}: step {step} of {steps}")
            case FrameEncoded(frame=frame, frames=frames):
                self.status.emit(f"Writing the video: frame {frame} of {frames}")
            case _:
                pass

    # ---- export --------------------------------------------------------------------------------

    def export(self, path: Path, fps: int) -> asyncio.Task[int] | None:
        """Write the finished zoom to `path` (format by suffix) in the background; the writing task."""
        settings = self.settings
        if settings is None or not self.keyframes:
            self.status.emit("Finish a zoom first, then export it.")
            return None
        video = ZoomVideo((path,), fps=float(fps))
        self.export_task = asyncio.ensure_future(self._export(settings, video))
        self.busy_changed.emit()
        return self.export_task

    async def _export(self, settings: ZoomSettings, video: ZoomVideo) -> int:
        """The number of frames written; 0 when the video could not be written (the status says why)."""
        try:
            frames = await export_zoom(self.keyframes, settings, video, self._on_progress)
        except SfumatoError as error:
            self.status.emit(error.message)
            return 0
        finally:
            self._busy_changed_soon()
        self.status.emit(f"Saved {frames} frames to {video.paths[0]}")
        return frames

    def _busy_changed_soon(self) -> None:
        """Once the task that calls this has ended, so that `running` and `exporting` say so."""
        QTimer.singleShot(0, self.busy_changed.emit)
