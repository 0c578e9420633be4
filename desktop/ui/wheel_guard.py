"""Scrolling a panel with the mouse wheel must not change the combo box or spin box that happens to
pass under the pointer: an unfocused one hands the wheel to the scroll area around it (if any); a
click focuses it, and then the wheel changes it as usual."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QWidget

GUARDED = (QComboBox, QAbstractSpinBox)


class WheelGuard(QObject):
    """One filter for the whole application, installed by `guard_wheel`."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not (
            event.type() == QEvent.Type.Wheel and isinstance(watched, GUARDED) and not watched.hasFocus()
        ):
            return False
        if watched.focusPolicy() == Qt.FocusPolicy.WheelFocus:  # else the wheel would focus it
            watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        assert isinstance(event, QWheelEvent)
        area = _scroll_area_around(watched)
        if area is not None:
            viewport = area.viewport()
            position = QPointF(viewport.mapFromGlobal(event.globalPosition().toPoint()))
            QApplication.sendEvent(
                viewport,
                QWheelEvent(
                    position, event.globalPosition(), event.pixelDelta(), event.angleDelta(),
                    event.buttons(), event.modifiers(), event.phase(), event.inverted(),
                ),
            )  # fmt: skip
        return True


def _scroll_area_around(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


def guard_wheel(app: QApplication) -> WheelGuard:
    """Install the guard on `app` once; returns it."""
    existing = app.findChild(WheelGuard)
    if isinstance(existing, WheelGuard):
        return existing
    guard = WheelGuard(app)
    app.installEventFilter(guard)
    return guard
