"""Plays a finished zoom in a label, looping, at a small size."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel

from sfumato.core.zoom.frames import ZoomRenderer, frame_positions
from sfumato.core.zoom.geometry import zoom_geometry
from sfumato.core.zoom.settings import ZoomSettings
from sfumato.desktop.ui.qimage import to_qimage

PREVIEW_SIDE = 256


def preview_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, PREVIEW_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


class ZoomPlayer(QObject):
    def __init__(self, screen: QLabel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.screen = screen
        self.frame = 0  # frames shown since play()
        self._renderer: ZoomRenderer | None = None
        self._positions: list[float] = []
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._show_next_frame)

    def play(self, keyframes: list[np.ndarray], settings: ZoomSettings, fps: int) -> None:
        if len(keyframes) < 2:
            return
        geometry = zoom_geometry(
            settings.direction, settings.width, settings.height, settings.factor, settings.mask_blur
        )
        self._renderer = ZoomRenderer(keyframes, geometry, preview_size(settings.width, settings.height))
        self._positions = frame_positions(len(keyframes), fps, settings.seconds_per_keyframe)
        self.frame = 0
        self._timer.start(max(1, round(1000 / fps)))
        self._show_next_frame()

    def stop(self) -> None:
        self._timer.stop()
        self._renderer = None
        self.screen.clear()

    def _show_next_frame(self) -> None:
        if self._renderer is None or not self._positions:
            return
        position = self._positions[self.frame % len(self._positions)]
        self.screen.setPixmap(QPixmap.fromImage(to_qimage(self._renderer.frame(position))))
        self.frame += 1
