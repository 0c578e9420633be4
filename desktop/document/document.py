"""The document: layers (bottom to top), the active layer, the mask, the generation frame and the
undo history. Every public method that changes it goes through the history, and every change is
announced on `changed` so a canvas can repaint exactly what moved."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from sfumato.core.api import BadInput, Recipe
from sfumato.desktop.document.brush import Brush, layer_stroke
from sfumato.desktop.document.changes import (
    ActiveLayerChanged,
    Change,
    FrameChanged,
    MaskChanged,
    PixelsChanged,
)
from sfumato.desktop.document.commands import ChangeLayerStack, PatchCommand, SetFrame, SetLayerProperties
from sfumato.desktop.document.compositing import composite
from sfumato.desktop.document.dabs import DabStroke
from sfumato.desktop.document.frame import Frame, FrameCoverage
from sfumato.desktop.document.geometry import Rect, union_all
from sfumato.desktop.document.history import DEFAULT_BUDGET_BYTES, Command, History
from sfumato.desktop.document.images import check_size, read_image_file
from sfumato.desktop.document.layers import LAYER_PROPERTIES, BlendMode, Layer
from sfumato.desktop.document.mask import Mask, clear, fill_rect, invert, mask_stroke
from sfumato.desktop.document.patches import RasterPatch
from sfumato.desktop.document.pixel_edits import clear_pixels, transform_pixels
from sfumato.desktop.document.signals import Signal

_PROPERTY_LABELS = {
    "name": "Rename layer",
    "opacity": "Layer opacity",
    "visible": "Layer visibility",
    "locked": "Lock layer",
    "blend": "Blend mode",
    "recipe": "Layer recipe",
    "x": "Move layer",
    "y": "Move layer",
}


class Stroke:
    """A brush or mask stroke in progress. Feed it points as the pointer moves, then `end` it:
    the whole stroke becomes one undo step."""

    def __init__(self, document: Document, engine: DabStroke, label: str, layer: Layer | None) -> None:
        self._document = document
        self._engine = engine
        self._label = label
        self._layer = layer
        self._open = True

    def add_point(self, x: float, y: float, pressure: float = 1.0) -> None:
        if not self._open:
            raise RuntimeError("this stroke has ended")
        dirty = self._engine.add_point(x, y, pressure)
        if dirty.is_empty():
            return
        if self._layer is None:
            self._document._notify(MaskChanged(dirty))
        else:
            self._document._notify(PixelsChanged(dirty, self._layer))

    def end(self) -> bool:
        """Finish the stroke; returns whether it changed anything (and so became an undo step)."""
        patch = self._close()
        if patch is None:
            return False
        self._document.history.record(PatchCommand(self._document, patch, self._label))
        return True

    def cancel(self) -> None:
        """Drop the stroke and put the pixels back as they were."""
        patch = self._close()
        if patch is not None:
            PatchCommand(self._document, patch, self._label).undo()

    def _close(self) -> RasterPatch | None:
        if not self._open:
            raise RuntimeError("this stroke has ended")
        self._open = False
        self._document._stroke = None
        return self._engine.finish()


class Document:
    def __init__(
        self,
        *,
        frame: Frame | None = None,
        history_budget: int = DEFAULT_BUDGET_BYTES,
        title: str = "Untitled",
    ) -> None:
        self.id = uuid.uuid4().hex
        self.title = title
        self.changed: Signal[Change] = Signal()
        self.history = History(history_budget)
        self.mask = Mask()
        self._layers: list[Layer] = []
        self._active: Layer | None = None
        self._frame = frame if frame is not None else Frame()
        self._stroke: Stroke | None = None

    # ---- state ---------------------------------------------------------------------------------

    @property
    def layers(self) -> tuple[Layer, ...]:
        """Bottom to top."""
        return tuple(self._layers)

    @property
    def active_layer(self) -> Layer | None:
        return self._active

    @property
    def frame(self) -> Frame:
        return self._frame

    def set_active_layer(self, layer: Layer | None) -> None:
        """Choose the layer that painting and layer actions apply to (not an undo step)."""
        if layer is not None:
            self.index_of(layer)
        if layer is not self._active:
            self._active = layer
            self._notify(ActiveLayerChanged(layer))

    def index_of(self, layer: Layer) -> int:
        for index, candidate in enumerate(self._layers):
            if candidate is layer:
                return index
        raise ValueError(f"{layer!r} is not in this document")

    def bounds(self) -> Rect | None:
        """The bounding box of all painted pixels on every layer (None when there are none)."""
        area = union_all(layer.content_rect() for layer in self._layers)
        return None if area.is_empty() else area

    def composite(self, rect: Rect) -> np.ndarray:
        """The visible layers of `rect` as straight-alpha RGBA uint8 (H, W, 4)."""
        return composite(self._layers, rect)

    def export_visible(self, rect: Rect | None = None) -> np.ndarray:
        """What the artist sees, as RGBA; by default cropped to the visible painted pixels."""
        if rect is None:
            visible = union_all(layer.content_rect() for layer in self._layers if layer.visible)
            rect = visible if not visible.is_empty() else Rect(0, 0, 0, 0)
        return composite(self._layers, rect)

    def frame_coverage(self) -> FrameCoverage:
        return self._frame.coverage(self)

    # ---- history -------------------------------------------------------------------------------

    def execute(self, command: Command) -> None:
        self._check_idle()
        self.history.execute(command)

    def undo(self) -> bool:
        self._check_idle()
        return self.history.undo()

    def redo(self) -> bool:
        self._check_idle()
        return self.history.redo()

    def jump_to(self, position: int) -> None:
        """Undo or redo to any step of the history panel."""
        self._check_idle()
        self.history.jump_to(position)

    # ---- layers --------------------------------------------------------------------------------

    def add_layer(
        self,
        name: str | None = None,
        *,
        pixels: np.ndarray | None = None,
        x: int = 0,
        y: int = 0,
        index: int | None = None,
        blend: BlendMode = BlendMode.NORMAL,
        opacity: float = 1.0,
        recipe: Recipe | None = None,
        label: str = "New layer",
    ) -> Layer:
        """Add a layer (by default just above the active one) and make it active."""
        layer = Layer(
            pixels,
            x=x,
            y=y,
            name=name or self._fresh_name("Layer"),
            blend=blend,
            opacity=opacity,
            recipe=recipe,
        )
        self._insert(layer, index, label)
        return layer

    def add_generated_layer(
        self,
        image: np.ndarray,
        recipe: Recipe,
        *,
        x: int | None = None,
        y: int | None = None,
        name: str | None = None,
    ) -> Layer:
        """A generation result (RGB or RGBA uint8) as a new layer, placed on the frame by default."""
        pixels = _as_rgba(image)
        layer = Layer(
            pixels,
            x=self._frame.x if x is None else x,
            y=self._frame.y if y is None else y,
            name=name or _recipe_name(recipe),
            recipe=recipe,
        )
        self._insert(layer, None, "Generated layer")
        return layer

    def import_image(
        self,
        source: Path | str | np.ndarray,
        *,
        x: int = 0,
        y: int = 0,
        name: str | None = None,
        recipe: Recipe | None = None,
    ) -> Layer:
        """An image file (or an RGB/RGBA array) as a new layer at (x, y), with the recipe it was made
        from when known."""
        if isinstance(source, np.ndarray):
            pixels = _as_rgba(source)
            check_size(pixels.shape[1], pixels.shape[0], "The imported image")
            default_name = "Imported image"
        else:
            path = Path(source)
            pixels = read_image_file(path)
            default_name = path.stem
        layer = Layer(pixels, x=x, y=y, name=name or default_name, recipe=recipe)
        self._insert(layer, None, "Import image")
        return layer

    def duplicate_layer(self, layer: Layer | None = None) -> Layer:
        original = self._target(layer)
        copy = original.copy(name=f"{original.name} copy")
        self._insert(copy, self.index_of(original) + 1, "Duplicate layer")
        return copy

    def delete_layer(self, layer: Layer | None = None) -> None:
        doomed = self._target(layer)
        index = self.index_of(doomed)
        remaining = [candidate for candidate in self._layers if candidate is not doomed]
        active = self._active if self._active is not doomed else _neighbour(remaining, index)
        self.execute(ChangeLayerStack(self, remaining, active, "Delete layer"))

    def move_layer(self, layer: Layer, index: int) -> None:
        """Move `layer` to position `index` (0 = bottom)."""
        order = [candidate for candidate in self._layers if candidate is not layer]
        if not 0 <= index <= len(order):
            raise ValueError(f"no layer position {index}")
        self.index_of(layer)
        order.insert(index, layer)
        if order != self._layers:
            self.execute(ChangeLayerStack(self, order, self._active, "Move layer"))

    def merge_down(self, layer: Layer | None = None) -> Layer:
        """Paint `layer` onto the one below; the result keeps the lower layer's name and settings."""
        upper = self._target(layer)
        index = self.index_of(upper)
        if index == 0:
            raise BadInput(f"'{upper.name}' is the bottom layer: there is nothing below to merge into.")
        if not upper.visible:
            raise BadInput(f"'{upper.name}' is hidden: show it before merging it down.")
        lower = self._layers[index - 1]
        if lower.locked:
            raise BadInput(f"'{lower.name}' is locked: unlock it before merging into it.")
        base = lower.copy()
        base.opacity, base.blend = 1.0, BlendMode.NORMAL
        area = lower.rect.union(upper.rect)
        merged = Layer(
            composite([base, upper], area),
            x=area.x,
            y=area.y,
            name=lower.name,
            opacity=lower.opacity,
            visible=lower.visible,
            blend=lower.blend,
        )
        stack = [*self._layers[: index - 1], merged, *self._layers[index + 1 :]]
        self.execute(ChangeLayerStack(self, stack, merged, "Merge down"))
        return merged

    def flatten(self) -> Layer:
        """Replace every layer by one holding what is visible."""
        area = union_all(layer.rect for layer in self._layers if layer.visible)
        flat = Layer(self.composite(area), x=area.x, y=area.y, name="Background")
        self.execute(ChangeLayerStack(self, [flat], flat, "Flatten"))
        return flat

    def rename_layer(self, layer: Layer, name: str) -> None:
        self.set_layer_properties(layer, name=name)

    def translate_layer(self, layer: Layer, dx: int, dy: int) -> None:
        if dx or dy:
            self.set_layer_properties(layer, x=layer.x + int(dx), y=layer.y + int(dy))

    def set_layer_properties(self, layer: Layer, **changes: object) -> None:
        """Change any of name, opacity, visible, locked, blend, recipe, x, y as one undo step."""
        unknown = changes.keys() - LAYER_PROPERTIES
        if unknown:
            raise ValueError(f"not layer properties: {sorted(unknown)}")
        self.index_of(layer)
        changes = {name: _normalised(name, value) for name, value in changes.items()}
        changes = {name: value for name, value in changes.items() if getattr(layer, name) != value}
        if not changes:
            return
        labels = {_PROPERTY_LABELS[name] for name in changes}
        label = labels.pop() if len(labels) == 1 else "Layer properties"
        self.execute(SetLayerProperties(self, layer, changes, label))

    # ---- painting ------------------------------------------------------------------------------

    def begin_stroke(self, brush: Brush, layer: Layer | None = None) -> Stroke:
        target = self._target(layer)
        if target.locked:
            raise BadInput(f"'{target.name}' is locked: unlock it to paint on it.")
        label = "Eraser stroke" if brush.eraser else "Brush stroke"
        return self._begin(layer_stroke(target, brush), label, target)

    def paint_stroke(
        self, brush: Brush, points: Iterable[tuple[float, float]], layer: Layer | None = None
    ) -> bool:
        """A whole stroke through `points` at once; returns whether it changed anything."""
        stroke = self.begin_stroke(brush, layer)
        for x, y in points:
            stroke.add_point(x, y)
        return stroke.end()

    def begin_mask_stroke(self, brush: Brush) -> Stroke:
        """Paint the mask (an eraser brush removes mask)."""
        label = "Erase mask" if brush.eraser else "Paint mask"
        return self._begin(mask_stroke(self.mask, brush), label, None)

    def paint_mask_stroke(self, brush: Brush, points: Iterable[tuple[float, float]]) -> bool:
        stroke = self.begin_mask_stroke(brush)
        for x, y in points:
            stroke.add_point(x, y)
        return stroke.end()

    def mask_rect(self, rect: Rect, *, erase: bool = False) -> bool:
        self._check_idle()
        label = "Remove mask rectangle" if erase else "Mask rectangle"
        return self._record_patch(fill_rect(self.mask, rect, 0 if erase else 255), label)

    def clear_mask(self) -> bool:
        self._check_idle()
        return self._record_patch(clear(self.mask), "Clear mask")

    def invert_mask(self, rect: Rect | None = None) -> bool:
        """Invert the mask inside `rect` (by default the frame)."""
        self._check_idle()
        return self._record_patch(invert(self.mask, rect or self._frame.rect), "Invert mask")

    # ---- selections ----------------------------------------------------------------------------

    def transform_pixels(self, source: Rect, target: Rect, layer: Layer | None = None) -> bool:
        """Move the active layer's pixels in `source` to `target`, scaled to fit it: one undo step.
        Returns whether anything changed."""
        chosen = self._editable(layer, "move its pixels")
        same_size = (source.width, source.height) == (target.width, target.height)
        label = "Move selection" if same_size else "Scale selection"
        return self._record_patch(transform_pixels(chosen, source, target), label)

    def clear_pixels(self, rect: Rect, layer: Layer | None = None) -> bool:
        """Make the active layer's pixels in `rect` transparent: one undo step."""
        patch = clear_pixels(self._editable(layer, "delete its pixels"), rect)
        return self._record_patch(patch, "Delete selection")

    def _editable(self, layer: Layer | None, doing: str) -> Layer:
        target = self._target(layer)
        if target.locked:
            raise BadInput(f"'{target.name}' is locked: unlock it to {doing}.")
        return target

    # ---- frame ---------------------------------------------------------------------------------

    def set_frame(self, frame: Frame, label: str = "Move frame") -> None:
        if frame != self._frame:
            self.execute(SetFrame(self, frame, label))

    def move_frame(self, x: float, y: float) -> None:
        self.set_frame(self._frame.moved_to(x, y), "Move frame")

    def resize_frame(self, width: float, height: float) -> None:
        self.set_frame(self._frame.resized(width, height), "Resize frame")

    # ---- used by commands and loaders ----------------------------------------------------------

    def _notify(self, change: Change) -> None:
        self.changed.emit(change)

    def _replace_layers(self, layers: list[Layer], active: Layer | None) -> None:
        self._layers = list(layers)
        self._active = active

    def _replace_frame(self, frame: Frame) -> None:
        self._frame = frame
        self._notify(FrameChanged(frame))

    def _load(self, layers: list[Layer], active: Layer | None, mask: Mask, frame: Frame) -> None:
        """Set the whole content at once, outside the history (used when opening a file)."""
        self._layers = list(layers)
        self._active = active
        self.mask = mask
        self._frame = frame
        self.history.clear()

    # ---- helpers -------------------------------------------------------------------------------

    def _target(self, layer: Layer | None) -> Layer:
        target = layer if layer is not None else self._active
        if target is None:
            raise BadInput("There is no layer to work on: add or select a layer first.")
        self.index_of(target)
        return target

    def _insert(self, layer: Layer, index: int | None, label: str) -> None:
        if index is None:
            index = self.index_of(self._active) + 1 if self._active is not None else len(self._layers)
        stack = list(self._layers)
        stack.insert(index, layer)
        self.execute(ChangeLayerStack(self, stack, layer, label))

    def _begin(self, engine: DabStroke, label: str, layer: Layer | None) -> Stroke:
        """Start a stroke on `layer`, or on the mask when it is None."""
        self._check_idle()
        self._stroke = Stroke(self, engine, label, layer)
        return self._stroke

    def _check_idle(self) -> None:
        if self._stroke is not None:
            raise RuntimeError("finish or cancel the stroke in progress first")

    def _record_patch(self, patch: RasterPatch | None, label: str) -> bool:
        """Record an edit already made to the mask or a layer."""
        if patch is None:
            return False
        command = PatchCommand(self, patch, label)
        command.notify()
        self.history.record(command)
        return True

    def _fresh_name(self, base: str) -> str:
        taken = {layer.name for layer in self._layers}
        number = len(self._layers) + 1
        while f"{base} {number}" in taken:
            number += 1
        return f"{base} {number}"


def _neighbour(layers: list[Layer], removed_index: int) -> Layer | None:
    """The layer to select after deleting the one at `removed_index`: the one below, else the new bottom."""
    if not layers:
        return None
    return layers[max(removed_index - 1, 0)]


def _normalised(name: str, value: object) -> object:
    if name == "opacity":
        if not isinstance(value, int | float):
            raise ValueError(f"opacity must be a number, got {value!r}")
        return min(max(float(value), 0.0), 1.0)
    if name == "blend":
        return BlendMode(str(value))
    if name in ("x", "y"):
        if not isinstance(value, int):
            raise ValueError(f"layer position must be whole pixels, got {value!r}")
        return int(value)
    if name in ("visible", "locked"):
        return bool(value)
    return value


def _as_rgba(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise BadInput(f"Expected an RGB or RGBA image of bytes, got {image.dtype} {image.shape}.")
    if image.shape[2] == 4:
        return image.copy()
    alpha = np.full((*image.shape[:2], 1), 255, dtype=np.uint8)
    return np.concatenate([image, alpha], axis=2)


def _recipe_name(recipe: Recipe) -> str:
    """The whole prompt on one line: the Layers panel shortens it on screen, the document never does."""
    return " ".join(recipe.prompt.split()) or "Generated"
