"""The studio as an artist first meets it: the Generate panel fits a laptop screen without scrolling,
every control starts in agreement with what it shows, transparency reads as a checkerboard, the mask
can be hidden and cleared from the keyboard, messages stay until dismissed, and the layout can be
reset."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QSlider
from pytestqt.qtbot import QtBot

from sfumato.core.api import MemoryTierUsed
from sfumato.desktop.document import Rect
from sfumato.desktop.ui import messages
from sfumato.desktop.ui.canvas import BACKGROUND, CHECKER_DARK, CHECKER_LIGHT
from sfumato.desktop.ui.main_window import MainWindow
from sfumato.desktop.ui.qimage import to_rgba_array
from tests.desktop.ui.fake_engine import FakeEngine
from tests.desktop.ui.test_generation import finish, generate


def settle(qtbot: QtBot) -> None:
    qtbot.wait(50)
    QApplication.processEvents()


@pytest.mark.parametrize("size", [(1366, 768), (2560, 1440)])
def test_the_generate_panel_shows_its_main_settings_without_scrolling(
    window: MainWindow, qtbot: QtBot, size: tuple[int, int]
) -> None:
    window.resize(*size)
    window.reset_layout()
    settle(qtbot)
    panel = window.generation
    assert panel.settings_scroll.verticalScrollBar().maximum() == 0, "the Generate panel needs scrolling"
    fields = panel.settings_scroll.widget()
    assert fields is not None
    assert fields.minimumSizeHint().width() <= panel.settings_scroll.viewport().width(), "fields are cut off"
    for control in (panel.prompt, panel.negative, panel.models, panel.sampler, panel.steps, panel.cfg,
                    panel.seed, panel.strength, panel.batch, panel.generate_button):  # fmt: skip
        assert control.isVisible() and not control.visibleRegion().isEmpty(), control.objectName()
    assert not panel.advanced_section.isVisible(), "Advanced starts closed"
    assert window.canvas.width() >= size[0] * 0.4, "the canvas keeps a good part of the window"


def test_the_advanced_section_holds_the_advanced_settings(window: MainWindow, qtbot: QtBot) -> None:
    panel = window.generation
    assert panel.advanced and all(panel.advanced_section.isAncestorOf(box) for box in panel.advanced.values())
    assert panel.advanced_section.isAncestorOf(panel.mask_blur)
    qtbot.mouseClick(panel.advanced_toggle, Qt.MouseButton.LeftButton)
    assert panel.advanced_section.isVisible() and panel.mask_blur.isVisible()
    qtbot.mouseClick(panel.advanced_toggle, Qt.MouseButton.LeftButton)
    assert not panel.advanced_section.isVisible()


def test_each_slider_agrees_with_what_it_shows_at_start(window: MainWindow) -> None:
    layers, brush, tools = window.layers, window.brush_options, window.tools
    assert layers.opacity_label.text() == f"{layers.opacity.value()} %"
    assert (brush.hardness.value(), brush.opacity.value()) == (
        round(tools.hardness * 100),
        round(tools.opacity * 100),
    )
    assert brush.size_box.value() == tools.size
    window.host.document.add_layer("paint")
    assert layers.opacity.value() == 100 and layers.opacity_label.text() == "100 %"
    assert {slider.objectName() or slider.toolTip() for slider in window.findChildren(QSlider)} == {
        "Layer opacity", "Hardness", "Opacity",
    }, "a new slider needs its start checked here"  # fmt: skip


def canvas_pixel_at_frame_centre(window: MainWindow) -> tuple[int, ...]:
    frame = window.host.document.frame.rect
    x, y = window.canvas.viewport.to_widget(frame.x + frame.width / 2, frame.y + frame.height / 2)
    pixels = to_rgba_array(window.canvas.grab().toImage())
    ratio = window.canvas.devicePixelRatioF()
    return tuple(int(value) for value in pixels[int(y * ratio), int(x * ratio), :3])


def test_transparency_reads_as_a_checkerboard(window: MainWindow, qtbot: QtBot) -> None:
    settle(qtbot)
    background = (BACKGROUND.red(), BACKGROUND.green(), BACKGROUND.blue())
    assert canvas_pixel_at_frame_centre(window) != background
    assert min(canvas_pixel_at_frame_centre(window)) > 120, "a dark default brush shows on it"


def test_the_default_brush_shows_on_the_canvas_and_on_transparency(window: MainWindow) -> None:
    brush = window.tools.colour
    for ground in (BACKGROUND, CHECKER_LIGHT, CHECKER_DARK):
        rgb = (ground.red(), ground.green(), ground.blue())
        distance = max(abs(a - b) for a, b in zip(brush, rgb, strict=True))
        assert distance > 100, f"the default brush {brush} hardly shows on {ground.name()}"


def test_the_mask_tint_hides_and_shows_and_clear_mask_has_a_shortcut(
    window: MainWindow, qtbot: QtBot
) -> None:
    document = window.host.document
    document.add_layer("white", pixels=np.full((512, 512, 4), 255, np.uint8))
    document.mask_rect(Rect(0, 0, 512, 512))
    settle(qtbot)
    tinted = canvas_pixel_at_frame_centre(window)
    show_mask = window.actions_by_name["show_mask"]
    assert show_mask.shortcut() == QKeySequence("H") and show_mask.isChecked()
    show_mask.trigger()
    settle(qtbot)
    assert canvas_pixel_at_frame_centre(window) == (255, 255, 255) != tinted
    assert document.mask.any_in(document.frame.rect), "hiding the tint keeps the mask"
    show_mask.trigger()
    settle(qtbot)
    assert canvas_pixel_at_frame_centre(window) == tinted
    clear = window.actions_by_name["clear_mask"]
    assert not clear.shortcut().isEmpty()
    clear.trigger()
    assert not document.mask.any_in(document.frame.rect)


def test_a_message_stays_until_dismissed(window: MainWindow, qtbot: QtBot) -> None:
    window.show_error("The GPU ran out of memory. Try a smaller size or batch.")
    window.show_error("The GPU ran out of memory. Try a smaller size or batch.")
    area = window.message_area
    assert area.isVisible() and window.open_messages == [
        "The GPU ran out of memory. Try a smaller size or batch."
    ]
    assert area.rows[0].label.text().endswith("(×2)")
    qtbot.wait(300)
    assert window.open_messages, "a message does not vanish by itself"
    qtbot.mouseClick(area.rows[0].close_button, Qt.MouseButton.LeftButton)
    assert window.open_messages == [] and not area.isVisible()


def test_an_engine_restart_is_a_message_that_stays(window: MainWindow) -> None:
    window.client.crashed.emit("The engine stopped unexpectedly and was restarted.")
    assert window.open_messages == ["The engine stopped unexpectedly and was restarted."]


def test_reset_layout_puts_every_panel_back(window: MainWindow, qtbot: QtBot) -> None:
    docks = window.docks
    docks["zoom"].setFloating(True)
    docks["history"].hide()
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, docks["layers"])
    window.actions_by_name["reset_layout"].trigger()
    settle(qtbot)
    assert not any(dock.isFloating() for dock in docks.values())
    assert all(
        docks[name].isVisible() or window.tabifiedDockWidgets(docks[name])
        for name in docks
        if name != "candidates"
    )
    assert window.tabifiedDockWidgets(docks["generate"]) == [docks["zoom"]]
    assert window.dockWidgetArea(docks["layers"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert not docks["candidates"].isVisible()
    assert window.dockWidgetArea(docks["candidates"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert isinstance(docks["zoom"], QDockWidget) and docks["zoom"].height() > 300, "Zoom is not a short tab"


def test_a_long_job_says_when_it_has_finished(
    window: MainWindow, qtbot: QtBot, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(messages, "LONG_JOB_S", 0.0)  # every job counts as long here
    window.generation.models.select("/models/test-model")
    window.host.document.set_frame(window.host.document.frame.resized(64, 64))
    generate(window, qtbot, fake_engine)
    fake_engine.step(1, 10)
    finish(window, qtbot, fake_engine)
    assert window.open_messages == ["Finished: the txt2img job is done (0 min)."]


def test_on_first_launch_the_frame_is_fitted_to_the_canvas_between_the_docks(
    window: MainWindow, qtbot: QtBot
) -> None:
    canvas, frame = window.canvas, window.host.document.frame.rect
    window.resize(2560, 1440)
    window.hide()
    window._layout_pending = True  # as on a first launch
    window.show()

    def frame_centred() -> bool:
        left, top = canvas.viewport.to_widget(frame.x, frame.y)
        right, bottom = canvas.viewport.to_widget(frame.right, frame.bottom)
        inside = 0 <= left < right <= canvas.width() and 0 <= top < bottom <= canvas.height()
        return inside and abs(left - (canvas.width() - right)) <= 2

    qtbot.waitUntil(frame_centred, timeout=3000)


def test_a_step_down_after_running_out_of_memory_is_a_message_that_stays(window: MainWindow) -> None:
    reason = "The GPU ran out of memory; trying again at the 'low' tier with the same seeds."
    window.client.engine_event.emit(MemoryTierUsed("job-1", "low", reason, retry=True))
    window.client.engine_event.emit(MemoryTierUsed("job-2", "high", "plenty of memory"))
    assert window.open_messages == [reason]
