"""The studio's default dock layout, used on first launch and by View → Reset Layout: Layers above
History (with Queue as a tab) on the left, Generate (with Zoom as a tab of the same height) on the
right, the Candidates strip under the canvas; widths follow the window so a 1366×768 laptop and a
2560×1440 monitor both keep a useful canvas."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

LEFT, RIGHT, BOTTOM = (
    Qt.DockWidgetArea.LeftDockWidgetArea,
    Qt.DockWidgetArea.RightDockWidgetArea,
    Qt.DockWidgetArea.BottomDockWidgetArea,
)
PLACES = {
    "layers": LEFT,
    "history": LEFT,
    "queue": LEFT,
    "generate": RIGHT,
    "zoom": RIGHT,
    "candidates": BOTTOM,
}


def _clamp(value: float, low: int, high: int) -> int:
    return int(min(max(value, low), high))


def arrange_docks(window: QMainWindow) -> None:
    docks: dict[str, QDockWidget] = window.docks  # type: ignore[attr-defined]
    for name, area in PLACES.items():
        dock = docks[name]
        dock.setFloating(False)
        window.addDockWidget(area, dock)
        dock.show()
    window.splitDockWidget(docks["layers"], docks["history"], Qt.Orientation.Vertical)
    window.tabifyDockWidget(docks["history"], docks["queue"])
    window.tabifyDockWidget(docks["generate"], docks["zoom"])
    docks["history"].raise_()
    docks["generate"].raise_()
    docks["candidates"].hide()  # shown while a batch's candidates wait
    width, height = window.width(), window.height()
    window.resizeDocks(
        [docks["generate"], docks["layers"]],
        [_clamp(width * 0.29, 390, 560), _clamp(width * 0.17, 230, 360)],
        Qt.Orientation.Horizontal,
    )
    window.resizeDocks(
        [docks["layers"], docks["history"]], [int(height * 0.5), int(height * 0.4)], Qt.Orientation.Vertical
    )
