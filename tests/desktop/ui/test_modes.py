"""Automatic mode follows the artist's intent: a sketch inside the frame on an empty canvas is
img2img (sketch to image); a picture smaller than the frame is extended (outpaint); the panel says
which strength and mask blur the mode will use before Generate."""

from __future__ import annotations

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from sfumato.core.api import OUTPAINT_STRENGTH, Img2Img, Mode, Outpaint
from sfumato.desktop.document import Brush, Document, Frame
from sfumato.desktop.ui.generation_panel import GenerationPanel
from sfumato.desktop.ui.generation_plan import GenerationSettings, automatic_mode, plan_generation
from tests.desktop.document.helpers import solid


def sketched(document: Document) -> None:
    """A few dark strokes on a fresh layer, all inside the frame."""
    layer = document.add_layer("sketch")
    document.paint_stroke(Brush(size=6, colour=(20, 20, 20)), [(20, 20), (100, 40), (60, 110)], layer)


def test_a_sketch_inside_the_frame_on_an_empty_canvas_is_img2img() -> None:
    document = Document(frame=Frame(0, 0, 128, 128))
    sketched(document)
    assert automatic_mode(document) is Mode.IMG2IMG
    job = plan_generation(document, GenerationSettings(model="m", prompt="a cat", strength=0.6)).job
    assert isinstance(job, Img2Img) and job.strength == 0.6
    assert job.init.shape == (128, 128, 3)


def test_the_artist_may_still_choose_outpaint_for_a_sketch() -> None:
    document = Document(frame=Frame(0, 0, 128, 128))
    sketched(document)
    settings = GenerationSettings(model="m", prompt="a cat", mode=Mode.OUTPAINT)
    assert plan_generation(document, settings).mode is Mode.OUTPAINT


def test_a_picture_smaller_than_the_frame_is_extended() -> None:
    document = Document(frame=Frame(0, 0, 128, 128))
    document.add_layer("photo", pixels=solid(64, 128, (90, 120, 200, 255)), x=0, y=0)
    assert automatic_mode(document) is Mode.OUTPAINT
    assert isinstance(plan_generation(document, GenerationSettings(model="m", prompt="sea")).job, Outpaint)


def test_a_sketch_that_goes_on_outside_the_frame_is_outpainted() -> None:
    document = Document(frame=Frame(0, 0, 128, 128))
    layer = document.add_layer("sketch")
    document.paint_stroke(Brush(size=6, colour=(20, 20, 20)), [(20, 20), (220, 40)], layer)
    assert automatic_mode(document) is Mode.OUTPAINT


@pytest.fixture
def panel(qtbot: QtBot) -> GenerationPanel:
    widget = GenerationPanel()
    qtbot.addWidget(widget)
    return widget


def test_the_panel_says_what_strength_and_mask_blur_each_mode_uses(panel: GenerationPanel) -> None:
    panel.strength.setValue(0.6)
    panel.mask_blur.setValue(4)
    panel.set_automatic_mode(Mode.OUTPAINT)
    note = panel.mode_note.text()
    assert f"strength {OUTPAINT_STRENGTH:.2f}" in note and "mask blur 8 px" in note
    panel.mode.setCurrentIndex(panel.mode.findData(Mode.INPAINT.value))
    assert panel.mode_note.text() == "Uses strength 0.60 and mask blur 4 px."
    panel.mask_blur.setValue(12)
    assert "mask blur 12 px" in panel.mode_note.text()
    panel.mode.setCurrentIndex(panel.mode.findData(Mode.IMG2IMG.value))
    assert "strength 0.60" in panel.mode_note.text()
    panel.mode.setCurrentIndex(panel.mode.findData(Mode.TXT2IMG.value))
    assert "neither" in panel.mode_note.text()


def test_what_outpaint_is_said_to_use_is_what_it_uses() -> None:
    document = Document(frame=Frame(0, 0, 128, 128))
    document.add_layer("photo", pixels=solid(64, 128, (90, 120, 200, 255)))
    job = plan_generation(document, GenerationSettings(model="m", prompt="sea", mask_blur=4)).job
    assert isinstance(job, Outpaint) and job.mask_blur == 8
    assert job.strength is None  # the engine picks OUTPAINT_STRENGTH (regular) or 1.0 (inpainting)
    assert np.array_equal(job.init[0, 0], (90, 120, 200))
