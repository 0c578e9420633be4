"""Images through the system clipboard. Copying offers both a PNG (exact, with transparency) and Qt's
own image; pasting takes a PNG, any image another application copied, or a copied image file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication, QImage

from sfumato.desktop.document.images import decode_rgba, encode_png, read_image_file
from sfumato.desktop.ui.file_commands import IMAGE_SUFFIXES
from sfumato.desktop.ui.qimage import to_qimage, to_rgba_array

PNG = "image/png"


def copy_image(pixels: np.ndarray) -> None:
    """Put straight-alpha RGBA pixels on the clipboard."""
    data = QMimeData()
    data.setData(PNG, encode_png(pixels, compress_level=1))
    data.setImageData(to_qimage(pixels))
    QGuiApplication.clipboard().setMimeData(data)


def pasted_image() -> np.ndarray | None:
    """The clipboard's image as RGBA pixels, or None when it holds none (BadInput when it is unreadable)."""
    data = QGuiApplication.clipboard().mimeData()
    if data is None:
        return None
    if data.hasFormat(PNG):
        return decode_rgba(bytes(data.data(PNG).data()), "The copied image")
    if data.hasImage():
        image = data.imageData()
        if isinstance(image, QImage) and not image.isNull():
            return to_rgba_array(image)
    for url in data.urls() if data.hasUrls() else []:
        path = Path(url.toLocalFile())
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return read_image_file(path)
    return None
