"""The toolbox (one button per tool, with its shortcut) and the brush options bar."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QActionGroup, QColor, QKeySequence
from PySide6.QtWidgets import QColorDialog, QLabel, QSlider, QToolBar, QWidget

from sfumato.desktop.ui.tool_settings import MAX_BRUSH, MIN_BRUSH, Tool, ToolSettings
from sfumato.desktop.ui.widgets import decimal_box, slider, tool_button

TOOLS: tuple[tuple[Tool, str, str], ...] = (
    (Tool.MOVE, "Move", "V"),
    (Tool.SELECT, "Select", "S"),
    (Tool.BRUSH, "Brush", "B"),
    (Tool.ERASER, "Eraser", "E"),
    (Tool.MASK_BRUSH, "Mask", "M"),
    (Tool.MASK_ERASER, "Unmask", "Shift+M"),
    (Tool.MASK_RECTANGLE, "Mask rect", "R"),
    (Tool.PICKER, "Picker", "I"),
    (Tool.FRAME, "Frame", "F"),
)


class Toolbox(QToolBar):
    def __init__(self, settings: ToolSettings, parent: QWidget | None = None) -> None:
        super().__init__("Tools", parent)
        self.setObjectName("toolbox")
        self.settings = settings
        self.group = QActionGroup(self)
        self.group.setExclusive(True)
        self.actions_by_tool: dict[Tool, QAction] = {}
        for tool, label, key in TOOLS:
            action = QAction(label, self, checkable=True)
            action.setShortcut(QKeySequence(key))
            action.setToolTip(f"{label} ({key})")
            action.triggered.connect(lambda _checked=False, chosen=tool: settings.set_tool(chosen))
            self.group.addAction(action)
            self.addAction(action)
            self.actions_by_tool[tool] = action
        settings.changed.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        self.actions_by_tool[self.settings.tool].setChecked(True)


class BrushOptions(QToolBar):
    def __init__(self, settings: ToolSettings, parent: QWidget | None = None) -> None:
        super().__init__("Brush options", parent)
        self.setObjectName("brushOptions")
        self.settings = settings
        self.size_box = decimal_box(MIN_BRUSH, MAX_BRUSH, settings.size, step=1.0, decimals=0)
        self.size_box.setSuffix(" px")
        self.size_box.setToolTip("Brush size ([ and ] change it)")
        self.size_box.valueChanged.connect(settings.set_size)
        self.hardness = self._slider("Hardness", settings.set_hardness)
        self.opacity = self._slider("Opacity", settings.set_opacity)
        self.colour = tool_button("", "Brush colour")
        self.colour.setObjectName("brushColour")
        self.colour.setFixedWidth(34)
        self.colour.clicked.connect(self.choose_colour)
        self.addWidget(QLabel(" Size "))
        self.addWidget(self.size_box)
        self.addWidget(QLabel("  Hardness "))
        self.addWidget(self.hardness)
        self.addWidget(QLabel("  Opacity "))
        self.addWidget(self.opacity)
        self.addWidget(QLabel("  Colour "))
        self.addWidget(self.colour)
        settings.changed.connect(self._sync)
        self._sync()

    def _slider(self, tip: str, setter: Callable[[float], None]) -> QSlider:
        widget = slider(0, 100, tip)
        widget.setFixedWidth(110)
        widget.valueChanged.connect(lambda value: setter(value / 100))
        return widget

    def _sync(self) -> None:
        settings = self.settings
        self.size_box.blockSignals(True)
        self.size_box.setValue(settings.size)
        self.size_box.blockSignals(False)
        for widget, value in ((self.hardness, settings.hardness), (self.opacity, settings.opacity)):
            widget.blockSignals(True)
            widget.setValue(round(value * 100))
            widget.blockSignals(False)
        red, green, blue = settings.colour
        self.colour.setStyleSheet(
            f"QToolButton {{ background: rgb({red}, {green}, {blue}); border: 1px solid #777; }}"
        )

    def choose_colour(self) -> None:
        chosen = QColorDialog.getColor(QColor(*self.settings.colour), self, "Brush colour")
        if chosen.isValid():
            self.settings.set_colour((chosen.red(), chosen.green(), chosen.blue()))
