"""The candidates of a batch as a strip of thumbnails, in their own dock under the canvas: click one
to show it in the frame, then keep or discard it (or all of them)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sfumato.desktop.ui.qimage import to_display_qimage
from sfumato.desktop.ui.widgets import tool_button

THUMBNAIL = 96


class CandidatesBox(QWidget):
    """Shown while a batch's images wait to be kept or discarded."""

    step = Signal(int)
    chosen = Signal(int)
    keep = Signal()
    keep_all = Signal()
    discard = Signal()
    discard_all = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("candidates")
        self.label = QLabel()
        self._shown: list[int] = []  # which images the strip's thumbnails show
        self.strip = QListWidget()
        self.strip.setObjectName("candidateStrip")
        self.strip.setViewMode(QListView.ViewMode.IconMode)
        self.strip.setFlow(QListView.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setMovement(QListView.Movement.Static)
        self.strip.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.strip.setFixedHeight(THUMBNAIL + 28)
        self.strip.currentRowChanged.connect(lambda row: self.chosen.emit(row) if row >= 0 else None)
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
        buttons = QVBoxLayout()
        top = QHBoxLayout()
        top.addWidget(previous)
        top.addWidget(self.label, 1, Qt.AlignmentFlag.AlignCenter)
        top.addWidget(following)
        buttons.addLayout(top)
        for pair in ((self.keep_button, keep_all), (self.discard_button, discard_all)):
            row = QHBoxLayout()
            for button in pair:
                row.addWidget(button)
            buttons.addLayout(row)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.strip, 1)
        layout.addLayout(buttons)

    def show_candidates(self, images: list[np.ndarray], index: int) -> None:
        """The strip shows `images`, the one at `index` selected."""
        self.strip.blockSignals(True)
        if self.strip.count() != len(images) or self._shown != [id(image) for image in images]:
            self.strip.clear()
            for number, image in enumerate(images, start=1):
                picture = QPixmap.fromImage(to_display_qimage(image)).scaled(
                    THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )  # fmt: skip
                self.strip.addItem(QListWidgetItem(QIcon(picture), str(number)))
        self._shown = [id(image) for image in images]
        self.strip.setCurrentRow(index if images else -1)
        self.strip.blockSignals(False)
        self.label.setText(f"{index + 1} of {len(images)}" if images else "")
        self.setVisible(bool(images))
