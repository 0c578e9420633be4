"""Brush and eraser strokes."""

from __future__ import annotations

import numpy as np
import pytest

from sfumato.desktop.document import Brush, Document, Rect
from sfumato.desktop.document.changes import PixelsChanged
from tests.desktop.document.helpers import solid


def _white_document(size: int = 100) -> Document:
    document = Document()
    document.add_layer("Paper", pixels=solid(size, size, (255, 255, 255, 255)))
    return document


def test_a_hard_stroke_paints_its_colour_along_the_path() -> None:
    document = _white_document()
    document.paint_stroke(Brush(size=10, hardness=1.0, colour=(200, 0, 50)), [(10, 50), (90, 50)])
    pixels = document.layers[0].pixels
    assert (pixels[50, 10:91] == [200, 0, 50, 255]).all()
    assert (pixels[10, :] == 255).all()  # far from the path nothing changed


def test_stroke_opacity_caps_the_whole_stroke_however_dabs_overlap() -> None:
    document = _white_document()
    # Many points on the same spot: dabs overlap dozens of times.
    points = [(50 + 0.1 * i, 50.0) for i in range(60)]
    document.paint_stroke(Brush(size=12, hardness=1.0, opacity=0.5, colour=(0, 0, 0), spacing=0.05), points)
    centre = document.layers[0].pixels[50, 50]
    assert centre.tolist() == [128, 128, 128, 255]  # half of white over white: 127.5 → 128


def test_a_soft_brush_fades_towards_its_rim() -> None:
    document = _white_document()
    document.paint_stroke(Brush(size=40, hardness=0.0, colour=(0, 0, 0)), [(50, 50)])
    row = document.layers[0].pixels[50, 50:72, 0].astype(int)
    assert row[0] == 0
    assert (np.diff(row) >= 0).all()  # lighter and lighter outwards
    assert row[-1] == 255


def test_the_eraser_removes_alpha_and_never_grows_the_layer() -> None:
    document = _white_document(40)
    layer = document.layers[0]
    document.paint_stroke(Brush(size=8, hardness=1.0, eraser=True), [(-50, 20), (90, 20)])
    assert layer.rect == Rect(0, 0, 40, 40)
    assert (layer.pixels[20, :, 3] == 0).all()
    assert (layer.pixels[0, :, 3] == 255).all()


def test_painting_beyond_the_edge_grows_the_layer_just_enough() -> None:
    document = _white_document(40)
    layer = document.layers[0]
    document.paint_stroke(Brush(size=10, hardness=1.0, colour=(0, 0, 255)), [(20, 20), (20, 300)])
    assert layer.rect.x == 0 and layer.rect.width == 40
    assert 300 < layer.rect.bottom <= 310  # no spare transparent margin is kept
    assert (layer.pixels[295, 20] == [0, 0, 255, 255]).all()


def test_a_stroke_on_an_empty_layer_creates_its_pixels() -> None:
    document = Document()
    layer = document.add_layer()
    assert layer.pixels.shape == (0, 0, 4)
    document.paint_stroke(Brush(size=6, hardness=1.0, colour=(9, 9, 9)), [(-1000, 500)])
    assert layer.rect.intersects(Rect(-1003, 497, 6, 6))
    assert layer.content_rect() == layer.rect
    document.undo()
    assert layer.pixels.shape == (0, 0, 4)


def test_dabs_follow_the_spacing() -> None:
    document = Document()
    layer = document.add_layer()
    # Tiny dabs far apart: separate dots, every 10 px (spacing 2.5 × size 4).
    document.paint_stroke(Brush(size=4, hardness=1.0, spacing=2.5), [(0.5, 0.5), (40.5, 0.5)])
    row = layer.read(Rect(0, 0, 41, 1))[0, :, 3]
    dots = [x for x in range(41) if row[x] == 255]
    assert dots == [x for x in range(41) if min(x % 10, 10 - x % 10) <= 1]


def test_an_interactive_stroke_reports_what_to_repaint_and_is_one_step() -> None:
    document = _white_document()
    repaint: list[Rect] = []
    document.changed.connect(
        lambda change: repaint.append(change.rect) if isinstance(change, PixelsChanged) else None
    )
    stroke = document.begin_stroke(Brush(size=10, colour=(1, 2, 3)))
    for x in range(10, 80, 7):
        stroke.add_point(x, 30, pressure=0.8)
    assert stroke.end()
    assert repaint and all(rect.intersects(Rect(5, 20, 80, 20)) for rect in repaint)
    assert document.history.labels == ["New layer", "Brush stroke"]


def test_cancelling_a_stroke_restores_the_pixels_without_an_undo_step() -> None:
    document = _white_document()
    original = document.layers[0].pixels.copy()
    stroke = document.begin_stroke(Brush(size=30))
    stroke.add_point(0, 0)
    stroke.add_point(300, 300)
    stroke.cancel()
    assert np.array_equal(document.layers[0].pixels, original)
    assert document.history.labels == ["New layer"]


def test_nothing_else_may_change_while_a_stroke_is_in_progress() -> None:
    document = _white_document()
    stroke = document.begin_stroke(Brush())
    with pytest.raises(RuntimeError):
        document.add_layer()
    with pytest.raises(RuntimeError):
        document.undo()
    stroke.end()
    document.add_layer()
