"""The wheel over a combo box or spin box the artist has not clicked scrolls the panel instead."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from sfumato.desktop.ui.generation_panel import GenerationPanel
from sfumato.desktop.ui.wheel_guard import guard_wheel


def wheel_down(widget: QWidget) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, -120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(widget, event)


def small_panel(qtbot: QtBot, qapp: QApplication) -> GenerationPanel:
    guard_wheel(qapp)
    panel = GenerationPanel()
    panel.set_samplers(["Euler a", "Euler", "DPM++ 2M", "DPM++ 2M SDE"])
    panel.sampler.setCurrentText("Euler a")
    qtbot.addWidget(panel)
    panel.resize(320, 260)  # shorter than its fields: the settings scroll
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_the_wheel_over_an_unfocused_sampler_box_scrolls_the_panel(qtbot: QtBot, qapp: QApplication) -> None:
    panel = small_panel(qtbot, qapp)
    bar = panel.settings_scroll.verticalScrollBar()
    assert bar.maximum() > 0
    for box in (panel.sampler, panel.steps, panel.cfg):
        before = bar.value()
        panel.settings_scroll.ensureWidgetVisible(box)
        before = bar.value()
        wheel_down(box)
        assert box.hasFocus() is False
        assert bar.value() != before or bar.value() == bar.maximum()
    assert panel.sampler.currentText() == "Euler a"
    assert panel.steps.value() == 20
    assert panel.cfg.value() == 7.0


def test_a_clicked_box_takes_the_wheel(qtbot: QtBot, qapp: QApplication) -> None:
    panel = small_panel(qtbot, qapp)
    panel.settings_scroll.ensureWidgetVisible(panel.steps)
    panel.steps.setFocus()
    qtbot.waitUntil(panel.steps.hasFocus)
    wheel_down(panel.steps)
    assert panel.steps.value() == 19
