"""Reading and setting the value of an input widget whatever its kind, so a panel's settings can be
saved, restored and filled from a recipe by name instead of widget by widget."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QPlainTextEdit, QSpinBox, QWidget


def read_value(widget: QWidget) -> Any:
    match widget:
        case QPlainTextEdit():
            return widget.toPlainText()
        case QComboBox():
            return widget.currentText()
        case QCheckBox():
            return widget.isChecked()
        case QSpinBox() | QDoubleSpinBox():
            return widget.value()
    raise TypeError(f"no value to read from a {type(widget).__name__}")


def write_value(widget: QWidget, value: object) -> None:
    """Show `value` in `widget`; a value of the wrong type is ignored, a number out of range clamped."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    match widget:
        case QPlainTextEdit() if isinstance(value, str):
            widget.setPlainText(value)
        case QComboBox() if isinstance(value, str):
            if widget.findText(value) < 0:
                widget.addItem(value)
            widget.setCurrentText(value)
        case QCheckBox() if isinstance(value, bool):
            widget.setChecked(value)
        case QSpinBox() if is_number and isinstance(value, int):
            widget.setValue(max(widget.minimum(), min(widget.maximum(), value)))  # beyond a C int otherwise
        case QDoubleSpinBox() if is_number:
            widget.setValue(float(value))  # type: ignore[arg-type]
