"""Mask edits on the infinite canvas."""

from __future__ import annotations

from sfumato.desktop.document import Brush, Document, Rect
from sfumato.desktop.document.changes import MaskChanged


def test_rectangle_adds_and_removes_mask() -> None:
    document = Document()
    document.mask_rect(Rect(-20, -10, 40, 30))
    assert (document.mask.read(Rect(-20, -10, 40, 30)) == 255).all()
    document.mask_rect(Rect(0, 0, 5, 5), erase=True)
    assert (document.mask.read(Rect(0, 0, 5, 5)) == 0).all()
    assert document.mask.read(Rect(-21, -11, 1, 1))[0, 0] == 0


def test_soft_mask_brush_paints_partial_values_and_erasing_removes_them() -> None:
    document = Document()
    document.paint_mask_stroke(Brush(size=40, hardness=0.0), [(50, 50)])
    row = document.mask.read(Rect(50, 50, 25, 1))[0].astype(int)
    assert row[0] == 255 and row[-1] == 0 and 0 < row[12] < 255
    document.paint_mask_stroke(Brush(size=60, hardness=1.0, eraser=True), [(50, 50)])
    assert not document.mask.any_in(Rect(0, 0, 100, 100))


def test_mask_painting_never_lowers_existing_mask() -> None:
    document = Document()
    document.mask_rect(Rect(0, 0, 100, 100))
    changed = document.paint_mask_stroke(Brush(size=30, hardness=0.2, opacity=0.5), [(50, 50)])
    assert not changed
    assert (document.mask.read(Rect(0, 0, 100, 100)) == 255).all()
    assert document.history.labels == ["Mask rectangle"]


def test_invert_swaps_masked_and_unmasked_inside_the_frame() -> None:
    document = Document()
    document.mask_rect(Rect(0, 0, 256, 512))
    document.invert_mask()
    inside = document.mask.read(document.frame.rect)
    assert (inside[:, :256] == 0).all() and (inside[:, 256:] == 255).all()
    assert not document.mask.any_in(Rect(-100, -100, 100, 100))


def test_clear_removes_everything_and_listeners_learn_where() -> None:
    document = Document()
    document.mask_rect(Rect(300, 300, 10, 10))
    document.mask_rect(Rect(-300, -300, 10, 10))
    areas: list[Rect] = []
    document.changed.connect(
        lambda change: areas.append(change.rect) if isinstance(change, MaskChanged) else None
    )
    assert document.clear_mask()
    assert not document.mask.pixels.any()
    assert areas == [Rect(-300, -300, 610, 610)]
    assert not document.clear_mask()  # nothing left to clear: no extra undo step
