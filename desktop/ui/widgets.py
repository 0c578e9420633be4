"""Small constructors for the plain widgets the panels use, set up in one call."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QSlider, QSpinBox, QToolButton


def tool_button(text: str, tip: str = "") -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    return button


def slider(minimum: int, maximum: int, tip: str = "") -> QSlider:
    widget = QSlider(Qt.Orientation.Horizontal)
    widget.setRange(minimum, maximum)
    widget.setToolTip(tip)
    return widget


def spin_box(minimum: int, maximum: int, value: int, suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(minimum, maximum)
    box.setValue(value)
    box.setSuffix(suffix)
    return box


def decimal_box(minimum: float, maximum: float, value: float, step: float, decimals: int) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(minimum, maximum)
    box.setSingleStep(step)
    box.setValue(value)
    return box


def check_box(text: str, checked: bool = False) -> QCheckBox:
    box = QCheckBox(text)
    box.setChecked(checked)
    return box
