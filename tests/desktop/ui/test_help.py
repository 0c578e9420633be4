"""Help › Keyboard Shortcuts lists every action that has a shortcut, as the actions themselves say;
Help › About names the versions and the folders Sfumato uses."""

from __future__ import annotations

from importlib.metadata import version

from PySide6.QtCore import qVersion
from PySide6.QtGui import QAction, QKeySequence

from sfumato.core.models.library import models_root
from sfumato.core.paths import data_dir, log_dir
from sfumato.desktop.ui.main_window import MainWindow
from sfumato.desktop.ui.studio_help import plain_text


def _sheet_rows(window: MainWindow) -> set[tuple[str, str]]:
    window.actions_by_name["shortcuts"].trigger()
    table = window.menus.shortcut_sheet.table
    assert window.menus.shortcut_sheet.isVisible()
    cells = [[table.item(row, column) for column in (0, 1)] for row in range(table.rowCount())]
    return {(action.text(), keys.text()) for action, keys in cells if action and keys}


def _keys(action: QAction) -> str:
    keys = (key.toString(QKeySequence.SequenceFormat.NativeText) for key in action.shortcuts())
    return ", ".join(key for key in keys if key)  # a standard key this platform leaves unset is none


def test_the_sheet_lists_every_action_with_a_shortcut(window: MainWindow) -> None:
    rows = _sheet_rows(window)
    with_keys = [action for action in window.findChildren(QAction) if _keys(action)]
    assert len(with_keys) > 20
    for action in with_keys:
        assert (plain_text(action.text()), _keys(action)) in rows
    assert (
        "Undo",
        QKeySequence(QKeySequence.StandardKey.Undo).toString(QKeySequence.SequenceFormat.NativeText),
    ) in rows
    assert ("Preferences…", "Ctrl+,") in rows
    assert "Brush" in {name for name, _keys in rows}  # the toolbox's tools too


def test_the_sheet_follows_the_actions_as_they_are(window: MainWindow) -> None:
    window.actions_by_name["fit"].setShortcut(QKeySequence("Ctrl+Shift+F"))
    extra = QAction("Tidy Up", window)
    extra.setShortcut(QKeySequence("Ctrl+Alt+T"))
    window.addAction(extra)
    rows = _sheet_rows(window)
    assert ("Fit to Window", "Ctrl+Shift+F") in rows
    assert ("Tidy Up", "Ctrl+Alt+T") in rows


def test_about_names_versions_and_folders(window: MainWindow) -> None:
    window.actions_by_name["about"].trigger()
    text = window.menus.about.text.text()
    for package in ("sfumato", "torch", "diffusers"):
        assert version(package) in text
    assert qVersion() in text
    for folder in (models_root(), log_dir(), data_dir()):
        assert str(folder) in text
