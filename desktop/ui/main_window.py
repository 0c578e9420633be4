"""The studio window: the canvas in the middle under the message area, dockable Generate, Zoom,
Layers, History, Queue and Candidates panels, the toolbox and brush options, and the status bar. It
builds the parts and connects them; menus (`studio_menus`), file dialogs and drops (`file_commands`),
crash recovery (`crash_recovery`), remembered settings (`window_settings`), the default dock layout
(`dock_layout`) and messages (`messages`) each live in their own module."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QVBoxLayout, QWidget

from sfumato.core.api import BadInput, Recipe
from sfumato.core.schedulers import sampler_names
from sfumato.desktop.document import Document, Layer
from sfumato.desktop.document.autosave import Recoverable
from sfumato.desktop.engine_client import EngineClient, EngineState
from sfumato.desktop.ui.canvas import CanvasView
from sfumato.desktop.ui.crash_recovery import CrashRecovery
from sfumato.desktop.ui.dock_layout import arrange_docks
from sfumato.desktop.ui.document_files import DocumentFiles
from sfumato.desktop.ui.document_host import DocumentHost
from sfumato.desktop.ui.file_commands import FileCommands, droppable
from sfumato.desktop.ui.frame_size_dialog import FrameSizeDialog, ask_frame_size
from sfumato.desktop.ui.generation_controller import GenerationController
from sfumato.desktop.ui.generation_panel import GenerationPanel
from sfumato.desktop.ui.history_panel import HistoryPanel
from sfumato.desktop.ui.layer_upscale import LayerUpscaler, UpscaleDialog
from sfumato.desktop.ui.layers_panel import LayersPanel
from sfumato.desktop.ui.message_area import Kind, MessageArea
from sfumato.desktop.ui.messages import JobNotices, StudioMessages
from sfumato.desktop.ui.model_defaults import ModelDefaultsFollower
from sfumato.desktop.ui.queue_panel import QueuePanel
from sfumato.desktop.ui.recipe_view import RecipeDialog, recipe_summary
from sfumato.desktop.ui.selection_commands import SelectionCommands
from sfumato.desktop.ui.settings import Settings
from sfumato.desktop.ui.status_bar import StudioStatusBar
from sfumato.desktop.ui.studio_menus import StudioMenus
from sfumato.desktop.ui.studio_preferences import StudioPreferences
from sfumato.desktop.ui.tool_bars import BrushOptions, Toolbox
from sfumato.desktop.ui.tool_settings import ToolSettings
from sfumato.desktop.ui.wheel_guard import guard_wheel
from sfumato.desktop.ui.window_settings import WindowSettings
from sfumato.desktop.ui.zoom_panel import ZoomPanel

if TYPE_CHECKING:
    from sfumato.desktop.ui.model_manager import ModelManager


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, client: EngineClient, settings: Settings | None = None) -> None:
        super().__init__()
        self.setObjectName("studio")
        app = QApplication.instance()
        if isinstance(app, QApplication):
            guard_wheel(app)
        self.setAcceptDrops(True)
        self.settings = settings or Settings()
        self.client = client
        self.host = DocumentHost(parent=self)
        self.files = DocumentFiles(self.host, self.settings, self)
        self.tools = ToolSettings(self)
        self.canvas = CanvasView(self.host, self.tools)
        self.message_area = MessageArea()
        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.message_area)
        column.addWidget(self.canvas, 1)
        self.setCentralWidget(centre)
        self.selection_commands = SelectionCommands(self.canvas)
        self.status = StudioStatusBar(client)
        self.setStatusBar(self.status)
        self.messages = StudioMessages(self, self.status, self.message_area)
        self.job_notices = JobNotices(self.messages, client.jobs)
        self.file_commands = FileCommands(self.files, self.canvas, self.messages, self.status, self)
        self.recovery = CrashRecovery(self.files, self.messages, self.status, self)
        self.generation = GenerationPanel()
        self.generation.set_samplers(sampler_names())  # the catalogue's names: plain data, no diffusers
        self.layers = LayersPanel(self.host)
        self.history = HistoryPanel(self.host)
        self.queue = QueuePanel(client)
        self.zoom = ZoomPanel(client, self.generation, self.frame_contents)
        self.controller = GenerationController(client, self.host, self.generation, self.canvas, self)
        self.layer_upscaler = LayerUpscaler(client, self)
        self.toolbox = Toolbox(self.tools)
        self.brush_options = BrushOptions(self.tools)
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, self.toolbox)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.brush_options)
        self.docks: dict[str, QDockWidget] = {}
        self._build_docks()
        self.menus = StudioMenus(self)
        self.window_settings = WindowSettings(self, self.settings, self.generation, self.tools)
        self.model_manager: ModelManager | None = None
        self.offers = self.generation.offers
        self.model_defaults = ModelDefaultsFollower(self.generation, self.host, self.offers)
        self.recipe_dialog: RecipeDialog | None = None
        self._connect()
        self._layout_pending = not self.window_settings.restore()
        self.preferences = StudioPreferences(self)
        self.model_defaults.start()
        self._show_candidates()
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
        self._dock("zoom", "Zoom", self.zoom, right)
        self._dock("layers", "Layers", self.layers, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("history", "History", self.history, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("queue", "Queue", self.queue, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock(
            "candidates", "Candidates", self.generation.candidates, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        arrange_docks(self)

    def reset_layout(self) -> None:
        """Put every panel back where it starts on first launch."""
        arrange_docks(self)
        self._show_candidates()

    def _show_candidates(self) -> None:
        self.docks["candidates"].setVisible(bool(self.controller.candidates))

    def _connect(self) -> None:
        self.host.history_changed.connect(self._update_title)
        self.host.path_changed.connect(self._update_title)
        self.host.replaced.connect(lambda _document: self._update_title())
        self.layers.reroll_requested.connect(self.controller.reroll)
        self.layers.copy_recipe_requested.connect(lambda layer: self.generation.apply_recipe(layer.recipe))
        self.layers.show_recipe_requested.connect(self.show_recipe)
        self.file_commands.recipe_imported.connect(self.offer_recipe)
        self.canvas.message.connect(self.status.show_message)
        self.canvas.pointer_moved.connect(self.status.show_pointer)
        self.canvas.zoom_changed.connect(self.status.show_zoom)
        self.status.show_zoom(self.canvas.zoom)
        self.layers.message.connect(self.status.show_message)
        self.zoom.message.connect(self.status.show_message)
        self.controller.message.connect(self.status.show_message)
        self.layer_upscaler.message.connect(self.status.show_message)
        self.layer_upscaler.error.connect(self.show_error)
        self.controller.error.connect(self.show_error)
        self.controller.model_used.connect(self.window_settings.remember_model)
        self.generation.models.manage_requested.connect(self.open_model_manager)
        self.client.crashed.connect(lambda text: self.messages.show(text, Kind.WARNING))
        self.client.engine_event.connect(self.job_notices.on_event)
        self.controller.candidates_changed.connect(self._show_candidates)
        self.client.state_changed.connect(self._on_engine_state)

    # ---- the parts' public faces ---------------------------------------------------------------

    @property
    def document(self) -> Document:
        return self.host.document

    @property
    def actions_by_name(self) -> dict[str, QAction]:
        return self.menus.actions_by_name

    def guarded(self, action: Callable[[], object]) -> None:
        """Run a menu or button action; problems the artist can fix become a message, not a crash."""
        self.messages.guarded(action)

    def show_error(self, text: str) -> None:
        self.messages.show_error(text)

    @property
    def open_messages(self) -> list[str]:
        return self.messages.open

    def offer_recovery(self) -> Recoverable | None:
        return self.recovery.offer()

    # ---- state shown in the window -------------------------------------------------------------

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

    def show_recipe(self, layer: Layer) -> RecipeDialog | None:
        """The Recipe dialog for a generated layer (none for a painted one)."""
        if layer.recipe is None:
            return None
        if self.recipe_dialog is not None:
            self.recipe_dialog.close()
        self.recipe_dialog = RecipeDialog(layer.recipe, layer.name, self)
        self.recipe_dialog.use_requested.connect(self.use_recipe)
        self.recipe_dialog.show()
        return self.recipe_dialog

    def show_active_recipe(self) -> RecipeDialog:
        """Layer › Show Recipe: the active layer's recipe, or a message saying why there is none."""
        layer = self.document.active_layer
        dialog = self.show_recipe(layer) if layer is not None else None
        if dialog is None:
            raise BadInput(
                "The active layer has no recipe: only generated layers and PNGs that carry one have."
            )
        return dialog

    def use_recipe(self, recipe: Recipe) -> None:
        """Fill the Generate panel from a recipe, and offer its size for the frame."""
        self.generation.apply_recipe(recipe)
        if recipe.model and recipe.model not in self.generation.models.models():
            self.show_error(
                f"The recipe was made with the model '{recipe.model}', which is not installed here; the "
                f"panel keeps '{self.generation.models.model()}'. Get it in Models › Model Manager."
            )
        self.model_defaults.offer_frame_size(
            recipe.width, recipe.height, f"The recipe was made at {recipe.width} × {recipe.height}"
        )

    def offer_recipe(self, recipe: Recipe) -> None:
        """A picture brought in its recipe: offer to fill the Generate panel with it."""
        self.offers.offer(
            "This picture carries the recipe it was made with.",
            "Use its recipe in the Generate panel",
            lambda: self.use_recipe(recipe),
            recipe_summary(recipe),
        )

    def open_model_manager(self) -> ModelManager:
        """Show the model manager window (made on first use; closing it only hides it)."""
        if self.model_manager is None:
            from sfumato.desktop.ui.model_manager import ModelManager  # its core modules load on demand

            self.model_manager = ModelManager(
                self, half_precision=self._engine_runs_in_half_precision, samplers=sampler_names
            )
            self.model_manager.installed_changed.connect(self.generation.models.refresh)
            self.model_manager.model_settings_changed.connect(self.model_defaults.settings_changed)
        self.model_manager.show()
        self.model_manager.raise_()
        self.model_manager.activateWindow()
        return self.model_manager

    def _engine_runs_in_half_precision(self) -> bool:
        info = self.client.info
        return info is not None and info.runs_in_half_precision

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

    def open_upscale(self) -> UpscaleDialog:
        return self.layer_upscaler.ask(self.document, self.generation.models.model())

    def open_frame_size(self) -> FrameSizeDialog:
        return ask_frame_size(self.document, self.generation.models.model(), self)

    def escape(self) -> None:
        """Esc: drop the gesture in progress, or else stop the running generation."""
        if not self.canvas.cancel_gesture():
            self.controller.cancel()

    # ---- Qt events -----------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._layout_pending:  # first launch: size the docks for the window as it is shown
            self._layout_pending = False
            QTimer.singleShot(0, self._first_layout)

    def _first_layout(self) -> None:
        self.reset_layout()
        QTimer.singleShot(0, self.canvas.fit)  # once the canvas has its size between the docks

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(droppable(url.toLocalFile()) for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        position = self.canvas.mapFrom(self, event.position().toPoint())
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls()]
        self.file_commands.drop_files(paths, QPointF(position))
        event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.file_commands.may_discard_changes():
            event.ignore()
            return
        self.window_settings.save()
        self.recovery.stop()
        self.files.closing()
        if self.model_manager is not None:
            self.model_manager.shut_down()
            self.model_manager.close()
        event.accept()
        self.closed.emit()
