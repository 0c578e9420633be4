"""Beside Generate, the studio says when a frame larger than the model is drawn small first and
enlarged with the hires fix ("64 → 256 with hires fix"), and says nothing for a frame the model
draws in one pass."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from sfumato.core.demo import DEMO_MODEL_ID
from sfumato.desktop.document.frame import Frame
from sfumato.desktop.ui.main_window import MainWindow


def shows_strategy(qtbot: QtBot, window: MainWindow, width: int, height: int, expected: str) -> None:
    """Set the frame, then wait for the line above Generate to say `expected` ("": hidden)."""
    window.host.document.set_frame(Frame(0, 0, width, height))
    label = window.generation.strategy

    def said() -> str:
        return label.text() if label.isVisibleTo(window) else ""

    qtbot.waitUntil(lambda: said() == expected, timeout=3000)


def test_a_frame_beyond_the_demo_models_size_shows_the_hires_strategy(
    qtbot: QtBot, window: MainWindow
) -> None:
    assert window.generation.models.model() == DEMO_MODEL_ID
    shows_strategy(qtbot, window, 256, 256, "64 → 256 with hires fix")
    shows_strategy(qtbot, window, 64, 64, "")
    shows_strategy(qtbot, window, 256, 64, "128×32 → 256×64 with hires fix")
    shows_strategy(qtbot, window, 72, 72, "")  # within the margin: drawn in one pass
    shows_strategy(qtbot, window, 512, 384, "72×56 → 512×384 with hires fix")
