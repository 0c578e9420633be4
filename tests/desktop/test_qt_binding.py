"""The Qt binding must not leak or drop Python references on the calls the canvas makes thousands of
times a second: PySide6 6.12.0 released a reference to None on every void call, which on Python 3.11
crashes the studio ("deallocating None") after a few minutes of panning."""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QRect, QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication


def test_painting_keeps_the_reference_count_of_none() -> None:
    QApplication.instance() or QApplication([])
    tile = QImage(64, 64, QImage.Format.Format_RGBA8888_Premultiplied)
    target = QImage(128, 128, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(target)
    gc.collect()  # garbage earlier tests left holds references to None: free it now, not while counting
    gc.disable()
    try:
        before = sys.getrefcount(None)
        for _ in range(5000):
            painter.drawImage(QRectF(0, 0, 64, 64), tile)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.fillRect(QRect(0, 0, 4, 4), 0)
        after = sys.getrefcount(None)
    finally:
        gc.enable()
    painter.end()
    assert after > before - 100, f"None lost {before - after} references in 15000 Qt calls"
