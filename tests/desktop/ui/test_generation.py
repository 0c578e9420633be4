"""Generating from the window, with a scripted engine: the job follows what is under the frame,
results land as undoable layers at the frame, batches become candidates, and failures are told."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from sfumato.core.api import ErrorKind, Img2Img, Inpaint, Outpaint, Recipe, Txt2Img
from sfumato.desktop.document import Document, Rect
from sfumato.desktop.ui.generation_controller import Candidate
from sfumato.desktop.ui.main_window import MainWindow
from tests.desktop.document.helpers import solid, state
from tests.desktop.ui.fake_engine import FakeEngine


@pytest.fixture
def studio(window: MainWindow) -> MainWindow:
    window.generation.models.select("/models/test-model")
    window.generation.prompt.setPlainText("a lighthouse at dusk")
    window.host.document.set_frame(window.host.document.frame.resized(64, 64))
    return window


def top_left_colours(document: Document) -> list[tuple[int, ...]]:
    return [tuple(int(value) for value in layer.pixels[0, 0, :3]) for layer in document.layers]


def generate(studio: MainWindow, qtbot: QtBot, fake: FakeEngine) -> str:
    job_id = studio.controller.generate()
    assert job_id is not None, studio.open_messages
    qtbot.waitUntil(lambda: job_id in studio.client.jobs and job_id in fake.jobs)
    return job_id


def finish(studio: MainWindow, qtbot: QtBot, fake: FakeEngine, **kwargs: object) -> None:
    before = len(studio.host.document.history.labels)
    fake.finish(**kwargs)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: not studio.controller.busy)
    qtbot.waitUntil(
        lambda: len(studio.host.document.history.labels) > before or bool(studio.controller.candidates)
    )


def test_an_empty_frame_runs_txt2img_with_the_panel_settings(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    panel = studio.generation
    panel.negative.setPlainText("blurry")
    panel.steps.setValue(12)
    panel.cfg.setValue(5.5)
    panel.random_seed.setChecked(False)
    panel.seed.setValue(77)
    job = fake_engine.jobs[generate(studio, qtbot, fake_engine)]
    assert isinstance(job, Txt2Img)
    assert (job.model, job.prompt, job.negative) == ("/models/test-model", "a lighthouse at dusk", "blurry")
    assert (job.steps, job.cfg, job.seed, job.width, job.height) == (12, 5.5, 77, 64, 64)


def test_clip_skip_from_the_advanced_settings_reaches_the_job_and_comes_back_from_recipes(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    panel = studio.generation
    clip_skip = panel.advanced["clip_skip"]
    assert clip_skip.value() == 1
    clip_skip.setValue(2)
    assert fake_engine.jobs[generate(studio, qtbot, fake_engine)].clip_skip == 2
    fake_engine.cancel(fake_engine.running or "")
    qtbot.waitUntil(lambda: not studio.controller.busy)

    clip_skip.setValue(1)
    layer = studio.host.document.add_generated_layer(
        np.zeros((64, 64, 3), np.uint8), Recipe(prompt="a harbour", seed=5, clip_skip=3), x=0, y=0
    )
    panel.apply_recipe(layer.recipe)  # type: ignore[arg-type]
    assert clip_skip.value() == 3 and panel.settings().clip_skip == 3
    clip_skip.setValue(1)
    rerolled = studio.controller.reroll(layer)
    assert rerolled is not None
    qtbot.waitUntil(lambda: rerolled in fake_engine.jobs)
    assert fake_engine.jobs[rerolled].clip_skip == 3


def test_the_mode_follows_what_is_under_the_frame(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    document = studio.host.document
    document.add_layer("paint", pixels=solid(64, 64, (10, 120, 30, 255)))
    job = fake_engine.jobs[generate(studio, qtbot, fake_engine)]
    assert isinstance(job, Img2Img)
    assert np.array_equal(job.init, np.full((64, 64, 3), (10, 120, 30), np.uint8))
    fake_engine.cancel(fake_engine.running or "")

    document.mask_rect(Rect(8, 8, 16, 16))
    job = fake_engine.jobs[generate(studio, qtbot, fake_engine)]
    assert isinstance(job, Inpaint)
    assert job.mask[8:24, 8:24].all() and job.mask.sum() == 16 * 16 * 255
    fake_engine.cancel(fake_engine.running or "")

    document.clear_mask()
    document.move_frame(-16, 0)  # the left 16 columns of the frame are now empty
    job = fake_engine.jobs[generate(studio, qtbot, fake_engine)]
    assert isinstance(job, Outpaint)
    assert (job.left, job.top, job.right, job.bottom) == (16, 0, 0, 0)
    assert job.init.shape == (64, 48, 3)


def test_a_manual_mode_that_cannot_work_is_explained(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    studio.generation.mode.setCurrentIndex(studio.generation.mode.findData("inpaint"))
    assert studio.controller.generate() is None
    assert fake_engine.jobs == {}
    assert any("nothing under the frame" in text for text in studio.open_messages)


def test_the_result_lands_at_the_frame_it_was_made_for_as_one_undo_step(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    document = studio.host.document
    document.move_frame(200, 104)
    generate(studio, qtbot, fake_engine)
    document.move_frame(0, 0)  # the artist moves on while the engine works
    finish(studio, qtbot, fake_engine, colours=[(250, 10, 10)])

    (layer,) = document.layers
    assert (layer.x, layer.y) == (200, 104)
    assert layer.name == "a lighthouse at dusk"
    assert layer.recipe is not None and layer.recipe.prompt == "a lighthouse at dusk"
    assert tuple(layer.pixels[0, 0]) == (250, 10, 10, 255)
    assert studio.generation.last_seed == layer.recipe.seed
    qtbot.mouseClick(studio.generation.reuse_seed, Qt.MouseButton.LeftButton)
    assert studio.generation.settings().seed == layer.recipe.seed
    document.undo()
    assert document.layers == ()


def test_progress_and_the_live_preview_show_while_the_job_runs(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    generate(studio, qtbot, fake_engine)
    assert studio.generation.cancel_button.isEnabled()
    fake_engine.step(5, 10, preview=np.full((8, 8, 3), 90, np.uint8))
    qtbot.waitUntil(lambda: studio.generation.progress.value() == 500)
    assert "Step 5 of 10" in studio.generation.progress.format()
    assert studio.canvas.frame_image_shown
    fake_engine.cancel(fake_engine.running or "")
    qtbot.waitUntil(lambda: not studio.controller.busy)
    assert not studio.canvas.frame_image_shown
    assert not studio.generation.cancel_button.isEnabled()
    assert studio.host.document.layers == ()


def test_ctrl_enter_generates_and_escape_cancels(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    studio.generation.prompt.setFocus()
    qtbot.keyClick(studio.generation.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: fake_engine.running is not None)
    running = fake_engine.running
    assert studio.generation.prompt.toPlainText() == "a lighthouse at dusk", "no line break was typed"

    qtbot.keyClick(studio.canvas, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not studio.controller.busy)
    assert fake_engine.cancel_requests == [running]


def test_a_batch_becomes_candidates_to_keep_or_discard(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    document = studio.host.document
    studio.generation.batch.setValue(4)
    generate(studio, qtbot, fake_engine)
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    finish(studio, qtbot, fake_engine, colours=colours)
    box = studio.generation.candidates
    assert box.isVisible() and box.label.text() == "1 of 4"
    assert studio.canvas.frame_image_shown and document.layers == ()

    box.step.emit(+1)
    box.keep.emit()  # the green one
    assert top_left_colours(document) == [(0, 255, 0)]
    assert box.label.text().endswith("of 3")
    box.discard.emit()  # the candidate shown now (blue) goes
    assert [tuple(c.image[0, 0]) for c in studio.controller.candidates] == [(255, 0, 0), (255, 255, 0)]

    steps_before = len(document.history.labels)
    box.keep_all.emit()
    assert len(document.history.labels) == steps_before + 1, "keeping all is one undo step"
    assert top_left_colours(document) == [
        (0, 255, 0),
        (255, 0, 0),
        (255, 255, 0),
    ]
    assert not box.isVisible() and not studio.canvas.frame_image_shown
    document.undo()
    assert len(document.layers) == 1


def test_candidates_are_a_strip_of_thumbnails_in_their_own_dock(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    studio.generation.batch.setValue(3)
    generate(studio, qtbot, fake_engine)
    finish(studio, qtbot, fake_engine, colours=[(255, 0, 0), (0, 255, 0), (0, 0, 255)])
    box, dock = studio.generation.candidates, studio.docks["candidates"]
    assert dock.isVisible() and dock.widget() is box and not studio.generation.isAncestorOf(box)
    assert box.strip.count() == 3 and not box.strip.item(0).icon().isNull()
    box.strip.setCurrentRow(2)  # a click on the third thumbnail
    assert studio.controller.candidate_index == 2 and box.label.text() == "3 of 3"
    box.keep_all.emit()
    assert not dock.isVisible()


def colours_of(candidates: list[Candidate]) -> list[tuple[int, ...]]:
    return [tuple(int(value) for value in candidate.image[0, 0]) for candidate in candidates]


def start_batch(
    studio: MainWindow, qtbot: QtBot, fake: FakeEngine, size: int, made: list[tuple[int, int, int]]
) -> None:
    """Generate a batch of `size` and let the engine make its first images, flat `made` colours."""
    waiting = len(studio.controller.candidates)
    studio.generation.batch.setValue(size)
    generate(studio, qtbot, fake)
    for colour in made:
        fake.image_ready(colour)
    qtbot.waitUntil(lambda: len(studio.controller.candidates) == waiting + len(made))


def test_each_image_of_a_batch_is_a_candidate_as_soon_as_it_is_made(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    start_batch(studio, qtbot, fake_engine, 3, made=[(255, 0, 0)])
    box = studio.generation.candidates
    assert box.isVisible() and box.label.text() == "1 of 1" and studio.controller.busy
    assert studio.canvas.frame_image_shown

    finish(studio, qtbot, fake_engine, colours=[(0, 255, 0), (0, 0, 255)])
    assert colours_of(studio.controller.candidates) == [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    assert box.label.text() == "1 of 3" and studio.host.document.layers == ()


def test_a_batch_cancelled_midway_keeps_the_images_made_for_the_artist_to_keep(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    document = studio.host.document
    start_batch(studio, qtbot, fake_engine, 3, made=[(255, 0, 0), (0, 255, 0)])
    fake_engine.step(3, 10, image=2, images=3)
    studio.controller.cancel()
    qtbot.waitUntil(lambda: not studio.controller.busy)

    assert colours_of(studio.controller.candidates) == [(255, 0, 0), (0, 255, 0)]
    assert (
        studio.status.currentMessage() == "Generation cancelled; the 2 images it made are kept as candidates"
    )
    assert not document.layers, "nothing lands in the document without the artist"
    box = studio.generation.candidates
    assert box.isVisible() and box.label.text() == "1 of 2" and studio.canvas.frame_image_shown
    box.keep_all.emit()
    assert top_left_colours(document) == [(255, 0, 0), (0, 255, 0)]
    assert [layer.recipe.seed for layer in document.layers if layer.recipe] == [1000, 1001]
    document.undo()
    assert document.layers == (), "keeping them all is one undo step"


def test_a_batch_whose_engine_crashes_keeps_the_image_made_before(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    document = studio.host.document
    start_batch(studio, qtbot, fake_engine, 3, made=[(0, 0, 255)])
    fake_engine.crash()
    qtbot.waitUntil(lambda: not studio.controller.busy)

    assert any("stopped unexpectedly" in text for text in studio.open_messages)
    assert studio.status.currentMessage() == "Generation failed; the image it made is kept as a candidate"
    assert colours_of(studio.controller.candidates) == [(0, 0, 255)]
    assert document.layers == ()
    studio.generation.candidates.keep.emit()
    assert top_left_colours(document) == [(0, 0, 255)]
    assert not studio.generation.candidates.isVisible()


def test_a_single_image_made_before_a_cancel_is_offered_not_added(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    generate(studio, qtbot, fake_engine)
    fake_engine.image_ready((9, 9, 9))
    qtbot.wait(50)
    assert not studio.controller.candidates, "a single image waits for its job to finish"
    studio.controller.cancel()
    qtbot.waitUntil(lambda: not studio.controller.busy)
    assert studio.host.document.layers == ()
    assert colours_of(studio.controller.candidates) == [(9, 9, 9)]


def test_a_new_batch_joins_the_candidates_still_waiting(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    document = studio.host.document
    start_batch(studio, qtbot, fake_engine, 2, made=[(1, 1, 1), (2, 2, 2)])
    finish(studio, qtbot, fake_engine)
    studio.generation.candidates.step.emit(+1)
    document.move_frame(64, 0)
    start_batch(studio, qtbot, fake_engine, 2, made=[(3, 3, 3)])
    assert studio.generation.candidates.label.text() == "2 of 3", "the one shown stays shown"

    studio.generation.candidates.keep_all.emit()
    assert [(layer.x, layer.y) for layer in document.layers] == [(0, 0), (0, 0), (64, 0)]


def test_a_failed_job_is_told_in_the_engines_words(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    generate(studio, qtbot, fake_engine)
    fake_engine.fail(ErrorKind.OUT_OF_MEMORY, "The GPU ran out of memory. Try a smaller size or batch.")
    qtbot.waitUntil(lambda: not studio.controller.busy)
    assert "The GPU ran out of memory. Try a smaller size or batch." in studio.open_messages


def test_an_engine_crash_leaves_the_document_untouched(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    document = studio.host.document
    document.add_layer("paint", pixels=solid(32, 32, (200, 30, 30, 255)))
    before = state(document)
    generate(studio, qtbot, fake_engine)
    fake_engine.crash()
    qtbot.waitUntil(lambda: not studio.controller.busy)
    assert any("stopped unexpectedly" in text for text in studio.open_messages)
    assert "restarting" in studio.status.engine_state.text()
    state(document).assert_equal(before)

    fake_engine.come_back()
    qtbot.waitUntil(lambda: "idle" in studio.status.engine_state.text(), timeout=3000)
    generate(studio, qtbot, fake_engine)


def test_the_queue_panel_lists_waiting_jobs_and_removes_them(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    running = generate(studio, qtbot, fake_engine)
    studio.generation.prompt.setPlainText("a second picture")
    waiting = generate(studio, qtbot, fake_engine)
    queue = studio.queue
    qtbot.waitUntil(lambda: queue.job_ids() == [running, waiting])
    labels = [queue.itemWidget(queue.item(row)).findChild(QLabel) for row in range(2)]
    label_texts = [label.text() for label in labels if label is not None]
    assert label_texts[0].startswith("Running") and label_texts[1].startswith("Waiting")
    assert "a second picture" in label_texts[1]

    remove = queue.itemWidget(queue.item(1)).findChild(
        type(studio.generation.reuse_seed), f"remove-{waiting}"
    )
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: queue.job_ids() == [running])
    assert fake_engine.waiting() == []


def test_the_automatic_mode_is_shown_before_generating(studio: MainWindow, qtbot: QtBot) -> None:
    mode = studio.generation.mode
    qtbot.waitUntil(lambda: mode.itemText(0) == "Automatic (txt2img)")
    studio.host.document.add_layer("paint", pixels=solid(64, 64, (1, 2, 3, 255)))
    qtbot.waitUntil(lambda: mode.itemText(0) == "Automatic (img2img)")


@dataclass(frozen=True)
class NewKindOfEvent:
    """An event this studio does not know (a newer engine's)."""

    job_id: str
    note: str


def test_events_the_studio_does_not_know_are_passed_over(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    handed_on: list[object] = []
    studio.client.engine_event.connect(handed_on.append)
    job_id = generate(studio, qtbot, fake_engine)
    new = NewKindOfEvent(job_id, "image 1 of 2 is ready")
    fake_engine.emit(new)  # type: ignore[arg-type]
    finish(studio, qtbot, fake_engine)
    assert new in handed_on, "the client hands on what it does not know, for panels that might"
    assert len(studio.host.document.layers) == 1
    assert studio.open_messages == []


def test_the_status_bar_shows_the_memory_tier_and_says_when_a_job_was_retried_lower(
    studio: MainWindow, qtbot: QtBot, fake_engine: FakeEngine
) -> None:
    from sfumato.core.api import MemoryTierUsed

    job_id = generate(studio, qtbot, fake_engine)
    fake_engine.emit(MemoryTierUsed(job_id, "high", "22.0 GB free of 24.0 GB; this job needs about 3.3 GB"))
    qtbot.waitUntil(lambda: studio.status.memory_tier.text() == "Memory: high")
    assert "22.0 GB free" in studio.status.memory_tier.toolTip()
    retried = "Not enough GPU memory at 1536×1536: retried with model offload"
    fake_engine.emit(MemoryTierUsed(job_id, "low", retried, retry=True))
    qtbot.waitUntil(lambda: studio.status.memory_tier.text() == "Memory: low")
    assert studio.status.currentMessage() == retried
