"""Every change to a document is one of these commands, so every change can be undone.

Commands hold layers by reference and pixels only as bounding-box patches: a stroke keeps the
rectangle it touched, a structural change keeps the layer lists before and after (a layer that
left the document stays alive in the command, which is what its byte count reports).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sfumato.desktop.document.changes import (
    ActiveLayerChanged,
    LayersChanged,
    MaskChanged,
    PixelsChanged,
)
from sfumato.desktop.document.frame import Frame
from sfumato.desktop.document.geometry import Rect, union_all
from sfumato.desktop.document.history import Command
from sfumato.desktop.document.layers import Layer
from sfumato.desktop.document.patches import RasterPatch

if TYPE_CHECKING:
    from sfumato.desktop.document.document import Document

# Properties whose change alters what the canvas shows.
_VISUAL_PROPERTIES = frozenset({"opacity", "visible", "blend", "x", "y"})


class PatchCommand(Command):
    """Pixels of one layer, or of the mask, changed inside a rectangle."""

    def __init__(self, document: Document, patch: RasterPatch, label: str) -> None:
        self.document = document
        self.patch = patch
        self.label = label

    @property
    def nbytes(self) -> int:
        return self.patch.nbytes

    def do(self) -> None:
        self.patch.apply()
        self.notify()

    def undo(self) -> None:
        self.patch.revert()
        self.notify()

    def notify(self) -> None:
        raster = self.patch.raster
        if isinstance(raster, Layer):
            self.document._notify(PixelsChanged(self.patch.rect, raster))
        else:
            self.document._notify(MaskChanged(self.patch.rect))


class ChangeLayerStack(Command):
    """Replace the ordered layer list (add, duplicate, delete, reorder, merge down, flatten)."""

    def __init__(self, document: Document, layers: list[Layer], active: Layer | None, label: str) -> None:
        self.document = document
        self.label = label
        self.before = list(document.layers)
        self.active_before = document.active_layer
        self.after = list(layers)
        self.active_after = active

    @property
    def nbytes(self) -> int:
        return _exclusive_bytes(self.before, self.after)

    @property
    def undone_nbytes(self) -> int:
        return _exclusive_bytes(self.after, self.before)

    def do(self) -> None:
        self._switch(self.before, self.after, self.active_after)

    def undo(self) -> None:
        self._switch(self.after, self.before, self.active_before)

    def _switch(self, old: list[Layer], new: list[Layer], active: Layer | None) -> None:
        self.document._replace_layers(new, active)
        self.document._notify(LayersChanged())
        dirty = _restacked_area(old, new)
        if not dirty.is_empty():
            self.document._notify(PixelsChanged(dirty))
        self.document._notify(ActiveLayerChanged(active))


def _exclusive_bytes(kept: list[Layer], shown: list[Layer]) -> int:
    """Pixels of the layers in `kept` that are not in `shown` (alive only through the history)."""
    shown_ids = {id(layer) for layer in shown}
    return sum(layer.nbytes for layer in kept if id(layer) not in shown_ids)


def _restacked_area(old: list[Layer], new: list[Layer]) -> Rect:
    """The canvas area of the layers that appeared, disappeared or changed place in the stack."""
    old_index = {id(layer): i for i, layer in enumerate(old)}
    new_index = {id(layer): i for i, layer in enumerate(new)}
    moved = [layer for layer in old if new_index.get(id(layer)) != old_index[id(layer)]]
    moved += [layer for layer in new if id(layer) not in old_index]
    return union_all(layer.rect for layer in moved)


class SetLayerProperties(Command):
    """Rename, opacity, visibility, lock, blend mode, recipe or position of one layer."""

    def __init__(self, document: Document, layer: Layer, changes: dict[str, object], label: str) -> None:
        self.document = document
        self.layer = layer
        self.label = label
        self.after = dict(changes)
        self.before = {name: getattr(layer, name) for name in changes}

    def do(self) -> None:
        self._set(self.after)

    def undo(self) -> None:
        self._set(self.before)

    def _set(self, values: dict[str, object]) -> None:
        old_rect = self.layer.rect
        for name, value in values.items():
            setattr(self.layer, name, value)
        self.document._notify(LayersChanged())
        if _VISUAL_PROPERTIES & values.keys():
            self.document._notify(PixelsChanged(old_rect.union(self.layer.rect), self.layer))


class SetFrame(Command):
    def __init__(self, document: Document, frame: Frame, label: str) -> None:
        self.document = document
        self.label = label
        self.before = document.frame
        self.after = frame

    def do(self) -> None:
        self.document._replace_frame(self.after)

    def undo(self) -> None:
        self.document._replace_frame(self.before)
