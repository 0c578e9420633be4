"""The File menu's side of the window: the dialogs that pick paths, the question before unsaved work
is thrown away, and files dropped on the window. The files themselves are `DocumentFiles`' job."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QPointF, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from sfumato.core.api import BadInput, SfumatoError
from sfumato.desktop.ui.canvas import CanvasView
from sfumato.desktop.ui.document_files import ORA_SUFFIX, DocumentFiles
from sfumato.desktop.ui.messages import StudioMessages
from sfumato.desktop.ui.status_bar import StudioStatusBar

ORA_FILTER = "OpenRaster (*.ora)"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff);;All files (*)"
PNG_FILTER = "PNG image (*.png)"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


def droppable(path: str) -> bool:
    suffix = Path(path).suffix.lower()
    return suffix == ORA_SUFFIX or suffix in IMAGE_SUFFIXES


class FileCommands(QObject):
    recipe_imported = Signal(object)  # the Recipe a PNG brought in with it

    def __init__(
        self,
        files: DocumentFiles,
        canvas: CanvasView,
        messages: StudioMessages,
        status: StudioStatusBar,
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self.files = files
        self._canvas = canvas
        self._messages = messages
        self._status = status
        self._window = window

    def may_discard_changes(self) -> bool:
        """Ask before unsaved changes are thrown away; True when it is fine to go on."""
        document = self.files.document
        if not document.history.is_modified():
            return True
        answer = QMessageBox.question(
            self._window,
            "Unsaved changes",
            f"'{document.title}' has changes that are not saved. Save them first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            try:
                return self.ask_save()
            except SfumatoError as error:  # not saved: nothing may be thrown away
                self._messages.show_error(error.message)
                return False
        return answer == QMessageBox.StandardButton.Discard

    def ask_new(self) -> None:
        if self.may_discard_changes():
            self.files.new_document()

    def ask_open(self) -> None:
        """Open a document; a picture chosen here comes in as a layer (with its recipe, if any)."""
        path, _filter = QFileDialog.getOpenFileName(
            self._window, "Open", self._folder(), f"{ORA_FILTER};;{IMAGE_FILTER}"
        )
        if not path:
            return
        if not droppable(path):
            raise BadInput(
                f'"{Path(path).name}" is neither an OpenRaster document nor a picture Sfumato opens.'
            )
        self.drop_files([Path(path)])

    def open_if_allowed(self, path: Path) -> None:
        if self.may_discard_changes():
            self.files.open(path)

    def ask_save(self) -> bool:
        if self.files.host.path is None:
            return self.ask_save_as()
        saved = self.files.save()
        self._status.show_message(f"Saved {saved}")
        return True

    def ask_save_as(self) -> bool:
        suggestion = str(Path(self._folder()) / f"{self.files.document.title}{ORA_SUFFIX}")
        path, _filter = QFileDialog.getSaveFileName(self._window, "Save As", suggestion, ORA_FILTER)
        if not path:
            return False
        saved = self.files.save(Path(path))
        self._status.show_message(f"Saved {saved}")
        return True

    def ask_import(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self._window, "Import Image as Layer", self._folder(), IMAGE_FILTER
        )
        if path:
            self.import_image(Path(path))

    def import_image(self, path: Path, at: tuple[int, int] | None = None) -> None:
        layer = self.files.import_image(path, at)
        if layer.recipe is not None:
            self.recipe_imported.emit(layer.recipe)

    def ask_export(self) -> None:
        path = self._ask_png_path("Export Visible as PNG")
        if path:
            self.files.export_visible(path)

    def ask_export_layer(self) -> None:
        path = self._ask_png_path("Export Layer as PNG")
        if path:
            self.files.export_layer(path)

    def drop_files(self, paths: list[Path], canvas_widget_point: QPointF | None = None) -> None:
        """Images become layers where they are dropped (or at the frame); an .ora file opens."""
        for path in paths:
            if path.suffix.lower() == ORA_SUFFIX:
                self._messages.guarded(lambda chosen=path: self.open_if_allowed(chosen))  # type: ignore[misc]
            elif path.suffix.lower() in IMAGE_SUFFIXES:
                at = self._canvas_point(canvas_widget_point)
                self._messages.guarded(lambda chosen=path, where=at: self.import_image(chosen, where))  # type: ignore[misc]

    def _canvas_point(self, widget_point: QPointF | None) -> tuple[int, int] | None:
        if widget_point is None or not self._canvas.rect().contains(widget_point.toPoint()):
            return None
        x, y = self._canvas.viewport.to_canvas(widget_point.x(), widget_point.y())
        return round(x), round(y)

    def _ask_png_path(self, title: str) -> Path | None:
        path, _filter = QFileDialog.getSaveFileName(self._window, title, self._folder(), PNG_FILTER)
        return Path(path) if path else None

    def _folder(self) -> str:
        path = self.files.host.path
        return str(path.parent) if path else str(Path.home())
