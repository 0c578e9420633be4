"""Undo history: every change undoes and redoes to identical pixels, within a byte budget."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from sfumato.desktop.document import BlendMode, Brush, Document, Frame, History, Rect
from tests.desktop.document.helpers import layered_document, random_pixels, sample_recipe, state

Edit = Callable[[Document], object]

EDITS: dict[str, Edit] = {
    "new layer": lambda d: d.add_layer("Sketch"),
    "import image": lambda d: d.import_image(random_pixels(20, 30, seed=9)[..., :3], x=-50, y=70),
    "generated layer": lambda d: d.add_generated_layer(random_pixels(64, 64, 4), sample_recipe(seed=7)),
    "duplicate": lambda d: d.duplicate_layer(d.layers[1]),
    "delete": lambda d: d.delete_layer(d.layers[1]),
    "delete active": lambda d: d.delete_layer(),
    "move to bottom": lambda d: d.move_layer(d.layers[2], 0),
    "merge down": lambda d: d.merge_down(d.layers[2]),
    "merge multiply down": lambda d: d.merge_down(d.layers[1]),
    "flatten": lambda d: d.flatten(),
    "rename": lambda d: d.rename_layer(d.layers[0], "Canvas"),
    "opacity": lambda d: d.set_layer_properties(d.layers[1], opacity=0.25),
    "blend and visibility": lambda d: d.set_layer_properties(
        d.layers[0], blend=BlendMode.SCREEN, visible=False
    ),
    "lock": lambda d: d.set_layer_properties(d.layers[0], locked=True),
    "recipe": lambda d: d.set_layer_properties(d.layers[0], recipe=sample_recipe(prompt="other")),
    "translate": lambda d: d.translate_layer(d.layers[1], -13, 21),
    "brush stroke": lambda d: d.paint_stroke(
        Brush(size=9, colour=(250, 10, 10)), [(0, 0), (30, 40), (60, 10)]
    ),
    "stroke beyond the layer": lambda d: d.paint_stroke(Brush(size=15), [(70, 60), (400, 300)], d.layers[0]),
    "eraser stroke": lambda d: d.paint_stroke(
        Brush(size=12, eraser=True), [(-30, -10), (80, 50)], d.layers[0]
    ),
    "soft translucent stroke": lambda d: d.paint_stroke(
        Brush(size=25, hardness=0.1, opacity=0.4, colour=(0, 80, 200)), [(10, 10), (12, 11), (50, 50)]
    ),
    "mask stroke": lambda d: d.paint_mask_stroke(Brush(size=20), [(100, 100), (-200, 50)]),
    "mask erase stroke": lambda d: d.paint_mask_stroke(Brush(size=8, eraser=True), [(5, 15), (45, 25)]),
    "mask rectangle": lambda d: d.mask_rect(Rect(-64, -64, 40, 500)),
    "remove mask rectangle": lambda d: d.mask_rect(Rect(15, 15, 10, 10), erase=True),
    "clear mask": lambda d: d.clear_mask(),
    "invert mask": lambda d: d.invert_mask(),
    "move frame": lambda d: d.move_frame(-300, 123),
    "resize frame": lambda d: d.resize_frame(768, 640),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_every_edit_undoes_and_redoes_to_identical_pixels(name: str) -> None:
    document = layered_document()
    before = state(document)
    EDITS[name](document)
    after = state(document)
    assert document.history.labels, f"{name} left no undo step"

    assert document.undo()
    state(document).assert_equal(before)
    assert document.redo()
    state(document).assert_equal(after)
    assert document.undo()
    state(document).assert_equal(before)


def test_a_stroke_keeps_only_the_patch_it_touched() -> None:
    document = Document()
    layer = document.add_layer(pixels=random_pixels(2048, 2048, seed=5))
    document.history.clear()
    original = layer.pixels.copy()

    document.paint_stroke(Brush(size=20, colour=(255, 255, 255)), [(1000, 1000), (1100, 1030), (1150, 990)])

    changed = np.argwhere((original != layer.pixels).any(axis=2))
    rows, cols = changed.max(axis=0) - changed.min(axis=0) + 1
    patch_bytes = 2 * int(rows) * int(cols) * 4  # before and after
    assert patch_bytes <= document.history.nbytes <= patch_bytes + 4096
    assert document.history.nbytes < layer.nbytes / 100


def test_the_budget_drops_the_oldest_steps_first() -> None:
    document = Document(history_budget=300_000)
    brush = Brush(size=30, colour=(200, 100, 0))
    states = [state(document)]
    document.add_layer(pixels=np.zeros((256, 256, 4), dtype=np.uint8))
    states.append(state(document))
    for i in range(20):
        document.paint_stroke(brush, [(10, 8 + 12 * i), (240, 8 + 12 * i)])
        states.append(state(document))

    history = document.history
    assert history.nbytes <= history.budget_bytes
    assert history.dropped > 0
    assert len(history.labels) + history.dropped == 21
    # states[i] is the state after i steps: undoing every kept step lands after the last dropped one.
    history.jump_to(0)
    state(document).assert_equal(states[history.dropped])
    assert not document.undo()
    history.jump_to(len(history.labels))
    state(document).assert_equal(states[-1])


def test_lowering_the_budget_trims_at_once() -> None:
    document = Document()
    document.add_layer(pixels=np.zeros((128, 128, 4), dtype=np.uint8))
    for i in range(10):
        document.paint_stroke(Brush(size=10), [(5, 5 + 10 * i), (120, 5 + 10 * i)])
    document.history.budget_bytes = 20_000
    assert document.history.nbytes <= 20_000
    assert len(document.history.labels) < 11


def test_a_single_step_larger_than_the_budget_can_still_be_undone() -> None:
    document = Document(history_budget=1_000)
    document.add_layer(pixels=random_pixels(64, 64, seed=1))
    after_adding = state(document)
    document.paint_stroke(Brush(size=40), [(0, 0), (64, 64)])
    assert document.history.labels == ["Brush stroke"]
    assert document.undo()
    state(document).assert_equal(after_adding)
    assert not document.undo()


def test_jumping_to_any_step_restores_that_state() -> None:
    document = layered_document()
    states = [state(document)]
    for name in ("brush stroke", "merge down", "mask stroke", "move frame", "opacity"):
        EDITS[name](document)
        states.append(state(document))
    assert document.history.labels == [
        "Brush stroke",
        "Merge down",
        "Paint mask",
        "Move frame",
        "Layer opacity",
    ]
    for target in (2, 0, 5, 3, 1, 4):
        document.jump_to(target)
        assert document.history.position == target
        state(document).assert_equal(states[target])


def test_a_new_edit_after_undo_discards_the_redo_steps() -> None:
    document = layered_document()
    EDITS["rename"](document)
    EDITS["opacity"](document)
    document.undo()
    EDITS["move frame"](document)
    assert document.history.labels == ["Rename layer", "Move frame"]
    assert not document.history.can_redo()


def test_listeners_hear_about_every_history_change() -> None:
    history = History()
    heard: list[int] = []
    disconnect = history.changed.connect(lambda h: heard.append(h.position))
    document = Document()
    document.history = history
    document.add_layer()
    document.undo()
    document.redo()
    document.jump_to(0)
    assert heard == [1, 0, 1, 0]
    disconnect()
    document.redo()
    assert heard == [1, 0, 1, 0]


def test_modified_flag_follows_the_clean_point() -> None:
    document = layered_document()
    assert not document.history.is_modified()
    EDITS["rename"](document)
    assert document.history.is_modified()
    document.history.mark_clean()
    EDITS["opacity"](document)
    document.undo()
    assert not document.history.is_modified()
    document.undo()
    assert document.history.is_modified()


def test_a_locked_layer_refuses_paint_but_its_properties_still_change() -> None:
    from sfumato.core.api import BadInput

    document = layered_document()
    layer = document.layers[0]
    document.set_layer_properties(layer, locked=True)
    with pytest.raises(BadInput, match="locked"):
        document.begin_stroke(Brush(), layer)
    document.rename_layer(layer, "Keep")
    assert layer.name == "Keep"


def test_frame_edits_keep_the_frame_snapped() -> None:
    document = Document(frame=Frame.native(768))
    document.move_frame(13, -21)
    assert document.frame == Frame(16, -24, 768, 768)
