"""The studio window: the canvas in the middle, dockable Generate, Layers, History and Queue panels,
the toolbox and brush options, menus with their shortcuts, and the status bar."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QByteArray, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from sfumato.core.api import SfumatoError
from sfumato.desktop.document import Document
from sfumato.desktop.document.autosave import Recoverable
from sfumato.desktop.engine_client import EngineClient, EngineState
from sfumato.desktop.ui.canvas import CanvasView
from sfumato.desktop.ui.document_files import ORA_SUFFIX, DocumentFiles
from sfumato.desktop.ui.document_host import DocumentHost
from sfumato.desktop.ui.generation_controller import GenerationController
from sfumato.desktop.ui.generation_panel import GenerationPanel
from sfumato.desktop.ui.history_panel import HistoryPanel
from sfumato.desktop.ui.layers_panel import LayersPanel
from sfumato.desktop.ui.queue_panel import QueuePanel
from sfumato.desktop.ui.settings import Settings
from sfumato.desktop.ui.status_bar import StudioStatusBar
from sfumato.desktop.ui.tool_bars import BrushOptions, Toolbox
from sfumato.desktop.ui.tool_settings import ToolSettings
from sfumato.desktop.ui.zoom_panel import ZoomPanel

if TYPE_CHECKING:
    from sfumato.desktop.ui.model_manager import ModelManager

AUTOSAVE_SECONDS = 60
RECENT_MODELS = "recent_models"
ORA_FILTER = "OpenRaster (*.ora)"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff);;All files (*)"
PNG_FILTER = "PNG image (*.png)"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


def _encode(data: QByteArray) -> str:
    return base64.b64encode(bytes(data.data())).decode("ascii")


def _decode(text: object) -> QByteArray | None:
    if not isinstance(text, str):
        return None
    try:
        return QByteArray(base64.b64decode(text))
    except ValueError:
        return None


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, client: EngineClient, settings: Settings | None = None) -> None:
        super().__init__()
        self.setObjectName("studio")
        self.setAcceptDrops(True)
        self.settings = settings or Settings()
        self.client = client
        self.host = DocumentHost(parent=self)
        self.files = DocumentFiles(self.host, self.settings, self)
        self.tools = ToolSettings(self)
        self.canvas = CanvasView(self.host, self.tools)
        self.setCentralWidget(self.canvas)
        self.generation = GenerationPanel()
        self.layers = LayersPanel(self.host)
        self.history = HistoryPanel(self.host)
        self.queue = QueuePanel(client)
        self.zoom = ZoomPanel(client, self.generation, self.frame_contents)
        self.status = StudioStatusBar(client)
        self.setStatusBar(self.status)
        self.controller = GenerationController(client, self.host, self.generation, self.canvas, self)
        self.layers.reroll_requested.connect(self.controller.reroll)
        self.layers.copy_recipe_requested.connect(lambda layer: self.generation.apply_recipe(layer.recipe))
        self.toolbox = Toolbox(self.tools)
        self.brush_options = BrushOptions(self.tools)
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, self.toolbox)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.brush_options)
        self.docks: dict[str, QDockWidget] = {}
        self._build_docks()
        self.actions_by_name: dict[str, QAction] = {}
        self._build_menus()
        self._connect()
        self._autosave = QTimer(self, interval=AUTOSAVE_SECONDS * 1000)
        self._autosave.timeout.connect(self.autosave)
        self._autosave.start()
        self._messages: list[QMessageBox] = []
        self.recovery_box: QMessageBox | None = None
        self.model_manager: ModelManager | None = None
        self._restore_settings()
        self._update_title()
        self._on_engine_state()

    # ---- building ------------------------------------------------------------------------------

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{name}Dock")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def _build_docks(self) -> None:
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self._dock("generate", "Generate", self.generation, right)
        layers = self._dock("layers", "Layers", self.layers, right)
        history = self._dock("history", "History", self.history, right)
        queue = self._dock("queue", "Queue", self.queue, right)
        self.splitDockWidget(self.docks["generate"], layers, Qt.Orientation.Vertical)
        self.splitDockWidget(layers, history, Qt.Orientation.Vertical)
        self.tabifyDockWidget(history, queue)
        self.tabifyDockWidget(queue, self._dock("zoom", "Zoom", self.zoom, right))
        history.raise_()
        self.resizeDocks([self.docks["generate"]], [360], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["generate"], layers, history], [480, 290, 110], Qt.Orientation.Vertical)

    def _action(
        self,
        name: str,
        text: str,
        slot: Callable[[], object],
        shortcut: str | QKeySequence.StandardKey | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: self.guarded(slot))
        self.actions_by_name[name] = action
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self._action("new", "&New", self.ask_new, QKeySequence.StandardKey.New))
        file_menu.addAction(self._action("open", "&Open…", self.ask_open, QKeySequence.StandardKey.Open))
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addSeparator()
        file_menu.addAction(self._action("save", "&Save", self.ask_save, QKeySequence.StandardKey.Save))
        file_menu.addAction(self._action("save_as", "Save &As…", self.ask_save_as, "Ctrl+Shift+S"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("import", "&Import Image as Layer…", self.ask_import, "Ctrl+I"))
        file_menu.addAction(self._action("export", "&Export Visible as PNG…", self.ask_export, "Ctrl+E"))
        file_menu.addAction(self._action("export_layer", "Export &Layer as PNG…", self.ask_export_layer))
        file_menu.addSeparator()
        file_menu.addAction(self._action("quit", "&Quit", self.close, QKeySequence.StandardKey.Quit))

        edit = bar.addMenu("&Edit")
        edit.addAction(self._action("undo", "&Undo", self.undo, QKeySequence.StandardKey.Undo))
        redo = self._action("redo", "&Redo", self.redo)
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edit.addAction(redo)
        edit.addSeparator()
        edit.addAction(self._action("clear_mask", "&Clear Mask", lambda: self.document.clear_mask()))
        edit.addAction(
            self._action("invert_mask", "&Invert Mask in Frame", lambda: self.document.invert_mask())
        )
        edit.addSeparator()
        edit.addAction(self._action("smaller", "Smaller Brush", self.tools.shrink, "["))
        edit.addAction(self._action("larger", "Larger Brush", self.tools.grow, "]"))

        view = bar.addMenu("&View")
        zoom_in = self._action("zoom_in", "Zoom &In", self.canvas.zoom_in)
        zoom_in.setShortcuts([QKeySequence("+"), QKeySequence("="), QKeySequence("Ctrl++")])
        zoom_out = self._action("zoom_out", "Zoom &Out", self.canvas.zoom_out)
        zoom_out.setShortcuts([QKeySequence("-"), QKeySequence("Ctrl+-")])
        view.addAction(zoom_in)
        view.addAction(zoom_out)
        view.addAction(self._action("fit", "&Fit to Window", self.canvas.fit, "Ctrl+0"))
        view.addAction(self._action("actual", "&Actual Pixels (100 %)", self.canvas.actual_pixels, "Ctrl+1"))
        view.addSeparator()
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addAction(self.toolbox.toggleViewAction())
        view.addAction(self.brush_options.toggleViewAction())

        layer = bar.addMenu("&Layer")
        layer.addAction(self._action("add_layer", "&New Layer", self.layers.add_layer, "Ctrl+Shift+N"))
        layer.addAction(
            self._action("duplicate", "&Duplicate", lambda: self.document.duplicate_layer(), "Ctrl+J")
        )
        layer.addAction(self._action("delete", "De&lete", lambda: self.document.delete_layer()))
        layer.addAction(
            self._action("merge_down", "&Merge Down", lambda: self.document.merge_down(), "Ctrl+Shift+E")
        )
        layer.addAction(self._action("flatten", "&Flatten", lambda: self.document.flatten()))

        generate = bar.addMenu("&Generate")
        run = self._action("generate", "&Generate", self.controller.generate)
        run.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        run.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        generate.addAction(run)
        generate.addAction(self._action("cancel", "&Cancel", self.escape, "Esc"))
        generate.addSeparator()
        generate.addAction(self._action("infinite_zoom", "Infinite &Zoom…", self.open_zoom))

        models = bar.addMenu("&Models")
        models.addAction(self._action("model_manager", "Model &Manager…", self.open_model_manager))
        self._rebuild_recent()

    def _connect(self) -> None:
        self.host.history_changed.connect(self._update_title)
        self.host.path_changed.connect(self._update_title)
        self.host.replaced.connect(lambda _document: self._update_title())
        self.files.recent_changed.connect(self._rebuild_recent)
        self.canvas.message.connect(self.status.show_message)
        self.canvas.pointer_moved.connect(self.status.show_pointer)
        self.canvas.zoom_changed.connect(self.status.show_zoom)
        self.status.show_zoom(self.canvas.zoom)
        self.layers.message.connect(self.status.show_message)
        self.zoom.message.connect(self.status.show_message)
        self.controller.message.connect(self.status.show_message)
        self.controller.error.connect(self.show_error)
        self.controller.model_used.connect(self._remember_model)
        self.generation.models.manage_requested.connect(self.open_model_manager)
        self.client.crashed.connect(self.status.show_message)
        self.client.state_changed.connect(self._on_engine_state)

    # ---- helpers -------------------------------------------------------------------------------

    @property
    def document(self) -> Document:
        return self.host.document

    def guarded(self, action: Callable[[], object]) -> None:
        """Run a menu or button action; problems the artist can fix become a message, not a crash."""
        try:
            action()
        except SfumatoError as error:
            self.show_error(error.message)

    def show_error(self, text: str) -> None:
        """A non-blocking message box (the canvas and the engine keep running behind it)."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Sfumato", text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("errorMessage")
        box.finished.connect(lambda _result: self._messages.remove(box) if box in self._messages else None)
        self._messages.append(box)
        self.status.show_message(text)
        box.open()

    @property
    def open_messages(self) -> list[str]:
        return [box.text() for box in self._messages]

    def _update_title(self) -> None:
        name = self.host.path.name if self.host.path else self.document.title
        self.setWindowTitle(f"{name}[*] — Sfumato")
        self.setWindowModified(self.document.history.is_modified())
        self.actions_by_name["undo"].setEnabled(self.document.history.can_undo())
        self.actions_by_name["redo"].setEnabled(self.document.history.can_redo())

    def _on_engine_state(self, _state: str = "") -> None:
        state = self.client.state
        self.generation.generate_button.setEnabled(state not in (EngineState.STARTING, EngineState.FAILED))
        if state is EngineState.FAILED and self.client.error:
            self.show_error(self.client.error)

    def open_model_manager(self) -> ModelManager:
        """Show the model manager window (made on first use; closing it only hides it)."""
        if self.model_manager is None:
            from sfumato.desktop.ui.model_manager import ModelManager  # its core modules load on demand

            self.model_manager = ModelManager(self, half_precision=self._engine_runs_in_half_precision)
            self.model_manager.installed_changed.connect(self.generation.models.refresh)
        self.model_manager.show()
        self.model_manager.raise_()
        self.model_manager.activateWindow()
        return self.model_manager

    def _engine_runs_in_half_precision(self) -> bool:
        info = self.client.info
        return info is not None and info.dtype == "float16"

    def _remember_model(self, model: str) -> None:
        self.settings.add_recent(RECENT_MODELS, model)

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.files.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(
                lambda _checked=False, chosen=path: self.guarded(lambda: self._open_if_allowed(Path(chosen)))
            )
        self.recent_menu.setEnabled(bool(recent))

    # ---- edit ----------------------------------------------------------------------------------

    def undo(self) -> None:
        if not self.canvas.busy:
            self.document.undo()

    def redo(self) -> None:
        if not self.canvas.busy:
            self.document.redo()

    def frame_contents(self) -> np.ndarray | None:
        """What the frame shows (RGBA), or None while it is empty."""
        pixels = self.document.composite(self.document.frame.rect)
        return pixels if pixels[..., 3].any() else None

    def open_zoom(self) -> None:
        rect = self.document.frame.rect
        self.zoom.prefill((rect.width, rect.height))
        dock = self.docks["zoom"]
        dock.show()
        dock.raise_()

    def escape(self) -> None:
        """Esc: drop the gesture in progress, or else stop the running generation."""
        if not self.canvas.cancel_gesture():
            self.controller.cancel()

    # ---- files ---------------------------------------------------------------------------------

    def may_discard_changes(self) -> bool:
        """Ask before unsaved changes are thrown away; True when it is fine to go on."""
        if not self.document.history.is_modified():
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"'{self.document.title}' has changes that are not saved. Save them first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.ask_save()
        return answer == QMessageBox.StandardButton.Discard

    def ask_new(self) -> None:
        if self.may_discard_changes():
            self.files.new_document()

    def ask_open(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Open", self._folder(), ORA_FILTER)
        if path:
            self._open_if_allowed(Path(path))

    def _open_if_allowed(self, path: Path) -> None:
        if self.may_discard_changes():
            self.files.open(path)

    def ask_save(self) -> bool:
        if self.host.path is None:
            return self.ask_save_as()
        self.files.save()
        self.status.show_message(f"Saved {self.host.path}")
        return True

    def ask_save_as(self) -> bool:
        suggestion = str(Path(self._folder()) / f"{self.document.title}{ORA_SUFFIX}")
        path, _filter = QFileDialog.getSaveFileName(self, "Save As", suggestion, ORA_FILTER)
        if not path:
            return False
        saved = self.files.save(Path(path))
        self.status.show_message(f"Saved {saved}")
        return True

    def ask_import(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Import Image as Layer", self._folder(), IMAGE_FILTER
        )
        if path:
            self.files.import_image(Path(path))

    def ask_export(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(self, "Export Visible as PNG", self._folder(), PNG_FILTER)
        if path:
            self.files.export_visible(Path(path))

    def ask_export_layer(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(self, "Export Layer as PNG", self._folder(), PNG_FILTER)
        if path:
            self.files.export_layer(Path(path))

    def _folder(self) -> str:
        return str(self.host.path.parent) if self.host.path else str(Path.home())

    # ---- drag and drop -------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(_droppable(url.toLocalFile()) for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        position = self.canvas.mapFrom(self, event.position().toPoint())
        self.drop_files([Path(url.toLocalFile()) for url in event.mimeData().urls()], QPointF(position))
        event.acceptProposedAction()

    def drop_files(self, paths: list[Path], canvas_widget_point: QPointF | None = None) -> None:
        """Images become layers where they are dropped (or at the frame); an .ora file opens."""
        for path in paths:
            if path.suffix.lower() == ORA_SUFFIX:
                self.guarded(lambda chosen=path: self._open_if_allowed(chosen))  # type: ignore[misc]
            elif path.suffix.lower() in IMAGE_SUFFIXES:
                at = None
                if canvas_widget_point is not None and self.canvas.rect().contains(
                    canvas_widget_point.toPoint()
                ):
                    x, y = self.canvas.viewport.to_canvas(canvas_widget_point.x(), canvas_widget_point.y())
                    at = (round(x), round(y))
                self.guarded(lambda chosen=path, where=at: self.files.import_image(chosen, where))  # type: ignore[misc]

    # ---- autosave and recovery -----------------------------------------------------------------

    def autosave(self) -> None:
        try:
            self.files.autosave()
        except SfumatoError as error:
            self.status.show_message(f"Autosave failed: {error.message}")

    def offer_recovery(self) -> Recoverable | None:
        """After a crash: ask (without blocking) whether to bring back the newest autosave."""
        found = self.files.recoverable()
        if not found:
            return None
        newest = found[0]
        when = newest.saved_at.strftime("%Y-%m-%d %H:%M")
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Recover your work?",
            f"Sfumato did not close properly last time. An autosaved copy of '{newest.title}' from {when} "
            "is available. Recover it?",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setObjectName("recoveryPrompt")
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)

        def answered(_result: int) -> None:
            clicked = box.clickedButton()
            if clicked is recover:
                self.guarded(lambda: self.files.recover(newest))
            elif box.buttonRole(clicked) == QMessageBox.ButtonRole.DestructiveRole:
                self.files.discard_recoverable(newest)
            self.recovery_box = None

        box.finished.connect(answered)
        self.recovery_box = box
        box.open()
        return newest

    # ---- settings ------------------------------------------------------------------------------

    def _first_launch_geometry(self) -> None:
        """1440×900, or 90 % of a smaller screen, centred on it."""
        screen = self.screen().availableGeometry() if self.screen() else None
        if screen is None:
            self.resize(1440, 900)
            return
        width = min(1440, int(screen.width() * 0.9))
        height = min(900, int(screen.height() * 0.9))
        self.setGeometry(
            screen.x() + (screen.width() - width) // 2,
            screen.y() + (screen.height() - height) // 2,
            width,
            height,
        )

    def _restore_settings(self) -> None:
        geometry = _decode(self.settings.get("window_geometry"))
        if geometry is None or not self.restoreGeometry(geometry):
            self._first_launch_geometry()
        state = _decode(self.settings.get("window_state"))
        if state is not None:
            self.restoreState(state)
        generation = self.settings.get("generation", {})
        self.generation.restore(generation if isinstance(generation, dict) else {})
        model = generation.get("model") if isinstance(generation, dict) else None
        self.generation.models.set_models(self.settings.recent(RECENT_MODELS), model)
        brush = self.settings.get("brush", {})
        if isinstance(brush, dict):
            for key, setter in (
                ("size", self.tools.set_size),
                ("hardness", self.tools.set_hardness),
                ("opacity", self.tools.set_opacity),
            ):
                if isinstance(brush.get(key), int | float):
                    setter(brush[key])

    def save_settings(self) -> None:
        self.settings.set("window_geometry", _encode(self.saveGeometry()))
        self.settings.set("window_state", _encode(self.saveState()))
        self.settings.set("generation", self.generation.state())
        tools = self.tools
        self.settings.set("brush", {"size": tools.size, "hardness": tools.hardness, "opacity": tools.opacity})
        self.settings.save()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.may_discard_changes():
            event.ignore()
            return
        self.save_settings()
        self._autosave.stop()
        self.files.closing()
        if self.model_manager is not None:
            self.model_manager.shut_down()
            self.model_manager.close()
        event.accept()
        self.closed.emit()


def _droppable(path: str) -> bool:
    suffix = Path(path).suffix.lower()
    return suffix == ORA_SUFFIX or suffix in IMAGE_SUFFIXES
