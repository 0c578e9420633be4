"""The one place where numpy pixel arrays become QImages and back.

Arrays are uint8: (H, W) grey, (H, W, 3) RGB or (H, W, 4) straight-alpha RGBA. Every QImage made
here owns a copy of its pixels, so the array may change or go away afterwards.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

_FORMATS = {
    1: QImage.Format.Format_Grayscale8,
    3: QImage.Format.Format_RGB888,
    4: QImage.Format.Format_RGBA8888,
}


def to_qimage(pixels: np.ndarray) -> QImage:
    """A QImage of grey, RGB or RGBA pixels (RGBA keeps straight alpha)."""
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
        raise ValueError(f"expected uint8 (H, W[, C]) pixels, got {pixels.dtype} {pixels.shape}")
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    if channels not in _FORMATS:
        raise ValueError(f"expected 1, 3 or 4 channels, got {channels}")
    height, width = pixels.shape[:2]
    if height == 0 or width == 0:
        return QImage()
    data = np.ascontiguousarray(pixels)
    image = QImage(data.data, width, height, data.strides[0], _FORMATS[channels])
    return image.copy()


def to_display_qimage(pixels: np.ndarray) -> QImage:
    """Like `to_qimage`, in the premultiplied format QPainter draws fastest (for cached tiles)."""
    image = to_qimage(pixels)
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        return image.convertToFormat(QImage.Format.Format_RGBA8888_Premultiplied)
    return image


def to_rgba_array(image: QImage) -> np.ndarray:
    """Straight-alpha RGBA uint8 (H, W, 4) pixels of any QImage."""
    if image.isNull():
        return np.zeros((0, 0, 4), dtype=np.uint8)
    converted = image.convertToFormat(QImage.Format.Format_RGBA8888)
    width, height = converted.width(), converted.height()
    stride = converted.bytesPerLine()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8, count=stride * height)
    return buffer.reshape(height, stride)[:, : width * 4].reshape(height, width, 4).copy()
