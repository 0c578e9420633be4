"""Files for the open document: new, open and save OpenRaster, import images as layers, export
PNGs, remember recent files, and autosave with recovery after a crash."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from sfumato.core.api import BadInput, Recipe
from sfumato.core.metadata import read_recipe, save_png
from sfumato.core.paths import data_dir
from sfumato.desktop.document import Document, Layer
from sfumato.desktop.document.autosave import (
    Recoverable,
    autosave_path,
    discard,
    find_recoverable,
    write_autosave,
)
from sfumato.desktop.document.ora import open_ora, save_ora
from sfumato.desktop.ui.document_host import DocumentHost
from sfumato.desktop.ui.settings import Settings

log = logging.getLogger(__name__)

RECENT_FILES = "recent_files"
ORA_SUFFIX = ".ora"


def autosave_folder() -> Path:
    return data_dir() / "autosave"


def single_generation(document: Document) -> Recipe | None:
    """The recipe when what is visible is exactly one generated layer (so a PNG can carry it)."""
    visible = [layer for layer in document.layers if layer.visible and layer.pixels.size]
    if len(visible) == 1 and visible[0].recipe is not None and visible[0].opacity == 1.0:
        return visible[0].recipe
    return None


class DocumentFiles(QObject):
    recent_changed = Signal()

    def __init__(self, host: DocumentHost, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.settings = settings
        self._edits = 0  # history changes so far, so an unchanged document is not autosaved again
        self._autosaved_edits = -1
        host.history_changed.connect(self._count_edit)

    def _count_edit(self) -> None:
        self._edits += 1

    @property
    def document(self) -> Document:
        return self.host.document

    def recent_files(self) -> list[str]:
        return self.settings.recent(RECENT_FILES)

    def _remember(self, path: Path) -> None:
        self.settings.add_recent(RECENT_FILES, str(path))
        self.settings.save()
        self.recent_changed.emit()

    # ---- documents -----------------------------------------------------------------------------

    def new_document(self) -> None:
        self._forget_autosave()
        self.host.replace(Document(frame=self.document.frame))

    def open(self, path: Path) -> None:
        """Open an OpenRaster file (BadInput, in plain words, when it cannot be read)."""
        document = open_ora(path)
        self._forget_autosave()
        self.host.replace(document, path)
        self._remember(path)

    def save(self, path: Path | None = None) -> Path:
        """Save to `path` (default: where it was opened or last saved); returns where it went."""
        target = path or self.host.path
        if target is None:
            raise BadInput("Choose where to save the document first (File › Save As).")
        if target.suffix.lower() != ORA_SUFFIX:
            target = target.with_name(target.name + ORA_SUFFIX)
        if self.document.title in ("", "Untitled") or target != self.host.path:
            self.document.title = target.stem
        save_ora(self.document, target)
        self.document.history.mark_clean()
        self.host.set_path(target)
        self._remember(target)
        self._forget_autosave()
        return target

    # ---- images --------------------------------------------------------------------------------

    def import_image(self, path: Path, at: tuple[int, int] | None = None) -> Layer:
        """An image file as a new layer, by default at the frame's top left; a PNG made by Sfumato or
        AUTOMATIC1111 brings its recipe along as the layer's."""
        x, y = at if at is not None else (self.document.frame.x, self.document.frame.y)
        return self.document.import_image(path, x=x, y=y, recipe=_recipe_in(path))

    def export_visible(self, path: Path) -> None:
        """What is visible, cropped to the painted area, as a PNG (with the recipe of a lone generation)."""
        pixels = self.document.export_visible()
        if pixels.size == 0:
            raise BadInput("There is nothing visible to export: the document has no painted pixels.")
        save_png(_png_path(path), _opaque_as_rgb(pixels), single_generation(self.document))

    def export_layer(self, path: Path) -> None:
        layer = self.document.active_layer
        if layer is None:
            raise BadInput("There is no layer to export: select a layer first.")
        area = layer.content_rect()
        if area.is_empty():
            raise BadInput(f"'{layer.name}' is empty: there is nothing to export.")
        pixels = layer.read(area)
        save_png(_png_path(path), _opaque_as_rgb(pixels), layer.recipe)

    # ---- autosave ------------------------------------------------------------------------------

    def autosave(self) -> Path | None:
        """Write the autosave when the document changed since it was saved or last autosaved;
        returns its path."""
        if not self.document.history.is_modified() or self._autosaved_edits == self._edits:
            return None
        path = write_autosave(self.document, autosave_folder())
        self._autosaved_edits = self._edits
        return path

    def recoverable(self) -> list[Recoverable]:
        return find_recoverable(autosave_folder())

    def recover(self, recoverable: Recoverable) -> None:
        """Open an autosave left by a crash. The work exists in no file of its own, so it counts as
        unsaved (the title says so and quitting asks) until the artist saves it."""
        document = recoverable.open()
        document.history.mark_unsaved()
        # A fresh autosave under the recovered document's own name protects it from here on; the
        # old one goes only once the new one is safely written.
        fresh = write_autosave(document, autosave_folder())
        if fresh != recoverable.path:
            discard(autosave_folder(), recoverable)
        self.host.replace(document)

    def discard_recoverable(self, recoverable: Recoverable) -> None:
        discard(autosave_folder(), recoverable)

    def _forget_autosave(self) -> None:
        """The current document no longer needs its autosave (saved, or closed on purpose)."""
        autosave_path(self.document, autosave_folder()).unlink(missing_ok=True)

    def closing(self) -> None:
        self._forget_autosave()


def _recipe_in(path: Path) -> Recipe | None:
    if path.suffix.lower() != ".png":
        return None
    try:
        return read_recipe(path)
    except BadInput as error:  # the picture itself may be fine: it comes in without a recipe
        log.warning("%s", error.message)
        return None


def _png_path(path: Path) -> Path:
    return path if path.suffix.lower() == ".png" else path.with_name(path.name + ".png")


def _opaque_as_rgb(pixels: np.ndarray) -> np.ndarray:
    """Fully opaque pictures are written as RGB, the way a generation came out of the engine."""
    return pixels[..., :3] if bool((pixels[..., 3] == 255).all()) else pixels
