"""The Help menu's windows: the keyboard shortcut sheet, made from the window's own actions each time
it opens (so it cannot drift from what the keys do), and About, with versions and folders."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from sfumato.core.models.library import models_root
from sfumato.core.paths import config_dir, data_dir, log_dir


@dataclass(frozen=True)
class ShortcutRow:
    where: str  # the menu (File, Edit › …) or toolbar
    action: str
    keys: str


def plain_text(text: str) -> str:
    """An action's text without its mnemonic ampersands."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _menu_places(menu: QMenu, path: str, places: dict[QAction, str]) -> None:
    for action in menu.actions():
        submenu = action.menu()
        if isinstance(submenu, QMenu):
            _menu_places(submenu, f"{path} › {plain_text(action.text())}", places)
        else:
            places.setdefault(action, path)


def shortcut_rows(window: QMainWindow) -> list[ShortcutRow]:
    """Every action in the window that has a shortcut, in menu order, then the toolbars' and any other."""
    places: dict[QAction, str] = {}
    for top in window.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            _menu_places(menu, plain_text(top.text()), places)
    for toolbar in window.findChildren(QToolBar):
        for action in toolbar.actions():
            places.setdefault(action, toolbar.windowTitle())
    for action in window.findChildren(QAction):
        places.setdefault(action, "Studio")
    rows = []
    for action, where in places.items():
        keys = [shortcut.toString(QKeySequence.SequenceFormat.NativeText) for shortcut in action.shortcuts()]
        keys = [key for key in keys if key]
        if keys:
            rows.append(ShortcutRow(where, plain_text(action.text()), ", ".join(keys)))
    return rows


class ShortcutSheet(QDialog):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setObjectName("shortcutSheet")
        self.setWindowTitle("Keyboard Shortcuts")
        self.rows = shortcut_rows(window)
        self.table = QTableWidget(len(self.rows), 3)
        self.table.setHorizontalHeaderLabels(["Action", "Shortcut", "Where"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        for row, entry in enumerate(self.rows):
            for column, text in enumerate((entry.action, entry.keys, entry.where)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        _layout(self, self.table)
        self.resize(560, 600)


def versions() -> dict[str, str]:
    """Read from the installed packages' metadata: torch and diffusers are never imported here."""
    found = {}
    for label, package in (("Sfumato", "sfumato"), ("PyTorch", "torch"), ("Diffusers", "diffusers")):
        try:
            found[label] = version(package)
        except PackageNotFoundError:
            found[label] = "not installed"
    found["Qt"] = f"{qVersion()} (PySide6 {PySide6.__version__})"
    return found


def folders() -> dict[str, str]:
    return {
        "Models": str(models_root()),
        "Logs": str(log_dir()),
        "Data": str(data_dir()),
        "Settings": str(config_dir()),
    }


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About Sfumato")
        rows = "".join(f"<tr><td>{name}</td><td>{value}</td></tr>" for name, value in versions().items())
        places = "".join(f"<tr><td>{name}</td><td>{value}</td></tr>" for name, value in folders().items())
        self.text = QLabel(
            "<h3>Sfumato</h3><p>A local Stable Diffusion studio.</p>"
            f"<table cellspacing='6'>{rows}</table><h4>Folders</h4><table cellspacing='6'>{places}</table>"
        )
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        _layout(self, self.text)


def _layout(dialog: QDialog, content: QWidget) -> None:
    layout = QVBoxLayout(dialog)
    layout.addWidget(content)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
