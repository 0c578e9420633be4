"""The studio's menu bar: every named action, its shortcut and where it sits. Actions run guarded,
so a problem the artist can fix becomes a message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from sfumato.desktop.ui.log_files import open_log_folder
from sfumato.desktop.ui.studio_help import AboutDialog, ShortcutSheet

if TYPE_CHECKING:
    from sfumato.desktop.ui.main_window import MainWindow

Shortcut = str | QKeySequence.StandardKey


class StudioMenus:
    def __init__(self, window: MainWindow) -> None:
        self._window = window
        self.actions_by_name: dict[str, QAction] = {}
        self._build()
        window.files.recent_changed.connect(self.rebuild_recent)
        self.rebuild_recent()

    def _action(self, name: str, text: str, slot: Callable[[], object], *shortcuts: Shortcut) -> QAction:
        action = QAction(text, self._window)
        if shortcuts:
            action.setShortcuts([QKeySequence(shortcut) for shortcut in shortcuts])
        action.triggered.connect(lambda _checked=False: self._window.guarded(slot))
        self.actions_by_name[name] = action
        self._window.addAction(action)
        return action

    def _build(self) -> None:
        window, bar = self._window, self._window.menuBar()
        files, tools, canvas = window.file_commands, window.tools, window.canvas

        def document_action(method: str) -> Callable[[], object]:
            return lambda: getattr(window.document, method)()  # the document changes on open and new

        file_menu = bar.addMenu("&File")
        file_menu.addAction(self._action("new", "&New", files.ask_new, QKeySequence.StandardKey.New))
        file_menu.addAction(self._action("open", "&Open…", files.ask_open, QKeySequence.StandardKey.Open))
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addSeparator()
        file_menu.addAction(self._action("save", "&Save", files.ask_save, QKeySequence.StandardKey.Save))
        file_menu.addAction(self._action("save_as", "Save &As…", files.ask_save_as, "Ctrl+Shift+S"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("import", "&Import Image as Layer…", files.ask_import, "Ctrl+I"))
        file_menu.addAction(self._action("export", "&Export Visible as PNG…", files.ask_export, "Ctrl+E"))
        file_menu.addAction(self._action("export_layer", "Export &Layer as PNG…", files.ask_export_layer))
        file_menu.addSeparator()
        file_menu.addAction(self._action("quit", "&Quit", window.close, QKeySequence.StandardKey.Quit))

        edit = bar.addMenu("&Edit")
        edit.addAction(self._action("undo", "&Undo", window.undo, QKeySequence.StandardKey.Undo))
        edit.addAction(self._action("redo", "&Redo", window.redo, "Ctrl+Shift+Z", "Ctrl+Y"))
        edit.addSeparator()
        selection = window.selection_commands
        edit.addAction(self._action("cut", "Cu&t", selection.cut, QKeySequence.StandardKey.Cut))
        edit.addAction(self._action("copy", "&Copy", selection.copy, QKeySequence.StandardKey.Copy))
        paste = self._action("paste", "&Paste as New Layer", selection.paste, QKeySequence.StandardKey.Paste)
        edit.addAction(paste)
        edit.addAction(self._action("delete_selection", "&Delete Selected Pixels", selection.delete, "Del"))
        edit.addAction(self._action("select_all", "Select &All", selection.select_all, "Ctrl+A"))
        edit.addAction(self._action("deselect", "Deselect", selection.deselect, "Ctrl+Shift+A"))
        edit.addSeparator()
        edit.addAction(
            self._action("clear_mask", "&Clear Mask", document_action("clear_mask"), "Ctrl+Shift+M")
        )
        edit.addAction(self._action("invert_mask", "&Invert Mask in Frame", document_action("invert_mask")))
        edit.addSeparator()
        edit.addAction(self._action("smaller", "Smaller Brush", tools.shrink, "["))
        edit.addAction(self._action("larger", "Larger Brush", tools.grow, "]"))
        edit.addSeparator()
        preferences = self._action(
            "preferences", "&Preferences…", lambda: window.preferences.open_dialog(), "Ctrl+,"
        )
        preferences.setMenuRole(QAction.MenuRole.PreferencesRole)
        edit.addAction(preferences)

        view = bar.addMenu("&View")
        view.addAction(self._action("zoom_in", "Zoom &In", canvas.zoom_in, "+", "=", "Ctrl++"))
        view.addAction(self._action("zoom_out", "Zoom &Out", canvas.zoom_out, "-", "Ctrl+-"))
        view.addAction(self._action("fit", "&Fit to Window", canvas.fit, "Ctrl+0"))
        view.addAction(self._action("actual", "&Actual Pixels (100 %)", canvas.actual_pixels, "Ctrl+1"))
        show_mask = self._action(
            "show_mask", "Show &Mask", lambda: canvas.show_mask(show_mask.isChecked()), "H"
        )
        show_mask.setCheckable(True)
        show_mask.setChecked(canvas.mask_shown)
        view.addAction(show_mask)
        view.addSeparator()
        for dock in window.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addAction(window.toolbox.toggleViewAction())
        view.addAction(window.brush_options.toggleViewAction())
        view.addSeparator()
        view.addAction(self._action("reset_layout", "&Reset Layout", window.reset_layout))

        layer = bar.addMenu("&Layer")
        layer.addAction(self._action("add_layer", "&New Layer", window.layers.add_layer, "Ctrl+Shift+N"))
        layer.addAction(self._action("duplicate", "&Duplicate", document_action("duplicate_layer"), "Ctrl+J"))
        layer.addAction(self._action("delete", "De&lete", document_action("delete_layer")))
        layer.addAction(
            self._action("merge_down", "&Merge Down", document_action("merge_down"), "Ctrl+Shift+E")
        )
        layer.addAction(self._action("flatten", "&Flatten", document_action("flatten")))
        layer.addSeparator()
        layer.addAction(
            self._action("show_recipe", "Show &Recipe…", window.show_active_recipe, "Ctrl+Shift+R")
        )
        layer.addAction(self._action("upscale_layer", "&Upscale…", window.open_upscale))

        generate = bar.addMenu("&Generate")
        run = self._action("generate", "&Generate", window.controller.generate, "Ctrl+Return", "Ctrl+Enter")
        run.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        generate.addAction(run)
        generate.addAction(self._action("cancel", "&Cancel", window.escape, "Esc"))
        generate.addSeparator()
        generate.addAction(self._action("frame_size", "Frame &Size…", window.open_frame_size))
        generate.addAction(self._action("infinite_zoom", "Infinite &Zoom…", window.open_zoom))

        models = bar.addMenu("&Models")
        models.addAction(self._action("model_manager", "Model &Manager…", window.open_model_manager))

        self.help_menu = bar.addMenu("&Help")
        self.help_menu.addAction(
            self._action("shortcuts", "&Keyboard Shortcuts", self.show_shortcuts, "Ctrl+/")
        )
        about = self._action("about", "&About Sfumato", self.show_about)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        self.help_menu.addAction(about)
        self.help_menu.addAction(self._action("open_log_folder", "Open &Log Folder", open_log_folder))

    def show_shortcuts(self) -> ShortcutSheet:
        self.shortcut_sheet = ShortcutSheet(self._window)  # made anew: it lists the actions as they are now
        self.shortcut_sheet.open()
        return self.shortcut_sheet

    def show_about(self) -> AboutDialog:
        self.about = AboutDialog(self._window)
        self.about.open()
        return self.about

    def rebuild_recent(self) -> None:
        self.recent_menu.clear()
        recent = self._window.files.recent_files()
        commands = self._window.file_commands
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(
                lambda _checked=False, chosen=path: self._window.guarded(
                    lambda: commands.open_if_allowed(Path(chosen))
                )
            )
        self.recent_menu.setEnabled(bool(recent))
