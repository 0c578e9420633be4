"""Edit menu commands on the selection and the clipboard: select all, deselect, delete, cut, copy
and paste. Edits go through the document (one undo step each); problems become a BadInput."""

from __future__ import annotations

import numpy as np

from sfumato.core.api import BadInput
from sfumato.desktop.document import Document, Layer, Rect
from sfumato.desktop.ui.canvas import CanvasView
from sfumato.desktop.ui.clipboard import copy_image, pasted_image


class SelectionCommands:
    def __init__(self, canvas: CanvasView) -> None:
        self._canvas = canvas

    @property
    def _document(self) -> Document:
        return self._canvas.document

    @property
    def _selected(self) -> Rect | None:
        return self._canvas.selection.rect

    def _layer(self) -> Layer:
        layer = self._document.active_layer
        if layer is None:
            raise BadInput("There is no layer to work on: add or select a layer first.")
        return layer

    def select_all(self) -> None:
        """Select what the active layer holds."""
        content = self._layer().content_rect()
        if content.is_empty():
            raise BadInput("The active layer is empty: there is nothing to select.")
        self._canvas.selection.set(content)

    def deselect(self) -> None:
        self._canvas.selection.clear()

    def delete(self) -> None:
        selected = self._selected
        if selected is None:
            raise BadInput("Select an area first (Select tool, S), then delete it.")
        self._document.clear_pixels(selected)

    def copy(self) -> None:
        """Copy the selection's pixels of the active layer, or all of the layer without a selection."""
        layer = self._layer()
        area = self._selected or layer.content_rect()
        pixels = layer.read(area) if not area.is_empty() else np.zeros((0, 0, 4), np.uint8)
        if not pixels[..., 3].any():
            raise BadInput(f"There is nothing to copy: '{layer.name}' has no pixels there.")
        copy_image(pixels)
        self._canvas.report(f"Copied {area.width} × {area.height} pixels.")

    def cut(self) -> None:
        if self._selected is None:
            raise BadInput("Select an area first (Select tool, S), then cut it.")
        self.copy()
        self.delete()

    def paste(self) -> Layer:
        """The clipboard's image as a new layer, at the selection or in the middle of the view."""
        pixels = pasted_image()
        if pixels is None or pixels.size == 0:
            raise BadInput("The clipboard holds no image to paste.")
        height, width = pixels.shape[:2]
        selected = self._selected
        if selected is not None:
            x, y = selected.x, selected.y
        else:
            view = self._canvas.visible_rect()
            x, y = view.x + (view.width - width) // 2, view.y + (view.height - height) // 2
        layer = self._document.import_image(pixels, x=x, y=y, name="Pasted")
        self._canvas.selection.set(layer.rect)
        return layer
