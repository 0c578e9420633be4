"""The Zoom panel on the real in-process engine: keyframes arrive as thumbnails, a cancelled render
continues where it stopped, the finished zoom plays in the panel and exports as a video; prompt
changes read the same as on the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from sfumato.core import cli
from sfumato.core.api import BadInput
from sfumato.core.cli.zoom import zoom_settings
from sfumato.core.video import probe_video
from sfumato.core.zoom.frames import frame_positions
from sfumato.core.zoom.manifest import keyframe_name
from sfumato.desktop.engine_client import EngineClient
from sfumato.desktop.ui.generation_panel import GenerationPanel
from sfumato.desktop.ui.main_window import MainWindow
from sfumato.desktop.ui.zoom_panel import ZoomPanel
from sfumato.desktop.ui.zoom_plan import FROM_FRAME, FROM_PROMPT

SIZE = 64


def _frame_contents() -> np.ndarray:
    rgba = np.zeros((SIZE, SIZE, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 255
    return rgba


@pytest.fixture
def panel(qtbot: QtBot, real_client: EngineClient, tiny_model_dir: Path) -> Iterator[ZoomPanel]:
    generation = GenerationPanel()
    qtbot.addWidget(generation)
    generation.models.select(str(tiny_model_dir))
    generation.prompt.setPlainText("a lighthouse")
    generation.steps.setValue(2)
    zoom = ZoomPanel(real_client, generation, _frame_contents)
    qtbot.addWidget(zoom)
    zoom.prefill((SIZE, SIZE))
    zoom.keyframe_count.setValue(3)
    zoom.fps.setValue(4)
    zoom.seconds.setValue(1.0)
    yield zoom
    zoom.cancel()
    zoom.player.stop()


def test_keyframes_arrive_then_the_zoom_plays_and_exports(
    qtbot: QtBot, panel: ZoomPanel, tmp_path: Path
) -> None:
    assert panel.prompt.toPlainText() == "a lighthouse"
    panel.start_from.setCurrentIndex(panel.start_from.findData(FROM_PROMPT))
    shown_while_running: list[bool] = []
    panel.keyframe_shown.connect(lambda _index: shown_while_running.append(panel.running))

    panel.start()
    assert not panel.start_button.isEnabled()
    task = panel.controller.task
    assert task is not None
    qtbot.waitUntil(task.done, timeout=30_000)
    assert panel.status.text().startswith("Done"), panel.status.text()
    assert panel.thumbnails.count() == 3
    assert shown_while_running == [True, True, True]

    qtbot.waitUntil(lambda: panel.player.frame >= 3, timeout=5_000)
    shown = panel.preview.pixmap()
    assert not shown.isNull() and (shown.width(), shown.height()) == (SIZE, SIZE)

    refused = panel.export(tmp_path / "no such folder" / "zoom.mp4")
    assert refused is not None
    qtbot.waitUntil(refused.done, timeout=5_000)
    assert refused.result() == 0 and "no such folder" in panel.status.text()

    export = panel.export(tmp_path / "zoom.mp4")
    assert export is not None
    qtbot.waitUntil(export.done, timeout=20_000)
    video = probe_video(tmp_path / "zoom.mp4")
    assert (video.width, video.height) == (SIZE, SIZE)
    assert video.frames == export.result() == len(frame_positions(3, 4, 1.0))


def test_cancel_keeps_finished_keyframes_and_start_continues(qtbot: QtBot, panel: ZoomPanel) -> None:
    panel.start_from.setCurrentIndex(panel.start_from.findData(FROM_FRAME))

    def cancel_after_second(index: int) -> None:
        if index == 1:
            panel.cancel()

    panel.keyframe_shown.connect(cancel_after_second)
    panel.start()
    task = panel.controller.task
    assert task is not None
    qtbot.waitUntil(task.done, timeout=30_000)
    assert task.cancelled()
    assert "Cancelled" in panel.status.text()
    qtbot.waitUntil(panel.start_button.isEnabled, timeout=2_000)
    folder = panel.controller.folder
    assert folder is not None
    kept = [(folder / keyframe_name(index)).stat().st_mtime_ns for index in range(2)]
    assert not (folder / keyframe_name(2)).exists()

    panel.keyframe_shown.disconnect(cancel_after_second)
    with qtbot.waitSignal(panel.render_done, timeout=30_000):
        panel.start()
    assert panel.controller.folder == folder
    assert panel.thumbnails.count() == 3
    assert [(folder / keyframe_name(index)).stat().st_mtime_ns for index in range(2)] == kept
    keyframes = panel.controller.keyframes
    assert len(keyframes) == 3
    # the frame's contents are the first keyframe
    assert np.array_equal(keyframes[0][0, 0], [200, 0, 0])


def test_prompt_changes_mean_the_same_in_the_panel_and_on_the_command_line(
    panel: ZoomPanel, tiny_model_dir: Path
) -> None:
    cues = ["3: a castle", "6.5s: the sea", "0: a meadow"]
    panel.keyframe_count.setValue(8)
    panel.seconds.setValue(1.0)
    panel.prompt_changes.setPlainText("\n".join(cues) + "\n")
    in_panel = panel.settings()

    parser = cli.build_parser()
    at = [argument for cue in cues for argument in ("--prompt-at", cue)]
    args = parser.parse_args(["zoom", "--model", str(tiny_model_dir), "--prompt", "a lighthouse",
                              "--keyframes", "8", "--out", "z.mp4", *at])  # fmt: skip
    on_command_line = zoom_settings(args)

    assert in_panel.cues == on_command_line.cues
    prompts = [in_panel.prompt_for(keyframe) for keyframe in range(8)]
    assert prompts == [on_command_line.prompt_for(keyframe) for keyframe in range(8)]
    # 0 is the first keyframe; keyframe 3 fills the screen 3 seconds in; 6.5 s is into keyframe 7.
    assert prompts == ["a meadow"] * 3 + ["a castle"] * 4 + ["the sea"]


def test_the_zoom_takes_every_generation_setting_of_the_generate_panel(panel: ZoomPanel) -> None:
    generation = panel.generation
    generation.negative.setPlainText("fog")
    generation.cfg.setValue(5.5)
    generation.advanced["clip_skip"].setValue(2)

    settings = panel.settings()

    assert (settings.negative, settings.steps, settings.cfg, settings.clip_skip) == ("fog", 2, 5.5, 2)
    assert (settings.width, settings.height) == (SIZE, SIZE)  # the zoom's own size, not the panel's


def test_a_prompt_change_that_cannot_be_read_names_its_line(panel: ZoomPanel) -> None:
    panel.prompt_changes.setPlainText("2: a castle\n\ncastle")
    panel.start()
    assert not panel.running
    assert "line 3" in panel.status.text() and "3: a castle" in panel.status.text()
    panel.prompt_changes.setPlainText("2.5: a castle")
    with pytest.raises(BadInput, match="whole numbers"):
        panel.settings()


def test_the_generate_menu_opens_the_zoom_panel_set_to_the_frame(qtbot: QtBot, window: MainWindow) -> None:
    window.generation.prompt.setPlainText("a deep forest")
    window.docks["zoom"].hide()
    assert window.frame_contents() is None  # an empty frame: the zoom starts from the prompt

    window.actions_by_name["infinite_zoom"].trigger()

    assert window.docks["zoom"].isVisible()
    rect = window.document.frame.rect
    assert (window.zoom.width_box.value(), window.zoom.height_box.value()) == (
        rect.width // 8 * 8,
        rect.height // 8 * 8,
    )
    assert window.zoom.prompt.toPlainText() == "a deep forest"


def test_without_a_model_start_says_what_to_do(qtbot: QtBot, client: EngineClient) -> None:
    generation = GenerationPanel()
    qtbot.addWidget(generation)
    zoom = ZoomPanel(client, generation, _frame_contents)
    qtbot.addWidget(zoom)
    assert generation.models.model() == ""

    zoom.start()

    assert not zoom.running
    assert "Choose a model" in zoom.status.text()
    assert zoom.export(Path("unused.mp4")) is None
    assert "Finish a zoom first" in zoom.status.text()
