"""A layer's recipe for the artist to read: a short summary for the Layers panel's tooltip, and the
Recipe dialog with the whole of it, "Copy as A1111 text" and "Use in Generate panel"."""

from __future__ import annotations

import html
from dataclasses import fields

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sfumato.core.api import SETTING, Recipe, setting_of
from sfumato.core.metadata import format_parameters

SUMMARY_PROMPT_CHARACTERS = 300


def recipe_summary(recipe: Recipe) -> str:
    """Prompt, model, seed, sampler and size, as rich text for a tooltip."""
    prompt = recipe.prompt if len(recipe.prompt) <= SUMMARY_PROMPT_CHARACTERS else (
        recipe.prompt[:SUMMARY_PROMPT_CHARACTERS] + "…"
    )  # fmt: skip
    rows = [
        ("Prompt", prompt or "(none)"),
        ("Model", recipe.model or "(not recorded)"),
        ("Seed", str(recipe.seed)),
        ("Sampler", f"{recipe.sampler}, {recipe.steps} steps, CFG {recipe.cfg:g}"),
        ("Size", f"{recipe.width} × {recipe.height}"),
    ]
    lines = "".join(f"<tr><td><b>{name}</b></td><td>{html.escape(value)}</td></tr>" for name, value in rows)
    return f"<table>{lines}</table>"


class RecipeDialog(QDialog):
    """The whole recipe of a layer, as the fields an artist reads and as AUTOMATIC1111 text."""

    use_requested = Signal(object)  # the Recipe

    def __init__(self, recipe: Recipe, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recipeDialog")
        self.setWindowTitle(f"Recipe — {title}")
        self.recipe = recipe
        form = QFormLayout()
        for label, value in _fields(recipe):
            shown = QLabel(value)
            shown.setWordWrap(True)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(label, shown)
        self.text = QPlainTextEdit(format_parameters(recipe))
        self.text.setObjectName("recipeText")
        self.text.setReadOnly(True)
        self.copy_button = QPushButton("Copy as A1111 text")
        self.copy_button.setToolTip("Copy the recipe as AUTOMATIC1111 parameters text")
        self.copy_button.clicked.connect(self.copy)
        self.use_button = QPushButton("Use in Generate panel")
        self.use_button.clicked.connect(self._use)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("As AUTOMATIC1111 text"))
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(560, 480)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())

    def _use(self) -> None:
        self.use_requested.emit(self.recipe)
        self.accept()


def _fields(recipe: Recipe) -> list[tuple[str, str]]:
    """Every field the recipe has a value for, under its declared label, then the extra keys."""
    shown = [("Mode", recipe.mode.value)]
    for declared in fields(Recipe):
        value = getattr(recipe, declared.name)
        if SETTING in declared.metadata and value is not None and value != "":
            shown.append(
                (setting_of(declared).label, f"{value:g}" if isinstance(value, float) else str(value))
            )
    return shown + [(key, value) for key, value in recipe.extras.items() if value]
