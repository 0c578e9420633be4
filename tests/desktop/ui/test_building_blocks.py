"""The studio's small parts: pixel conversion, view mapping, tile levels, prompt highlighting,
job planning at the frame's edges, and the settings file."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from sfumato.core.api import Inpaint, Outpaint
from sfumato.desktop.document import Document, Frame, Rect
from sfumato.desktop.ui.generation_plan import GenerationSettings, plan_generation
from sfumato.desktop.ui.prompt_highlighter import Span, prompt_highlights
from sfumato.desktop.ui.qimage import to_qimage, to_rgba_array
from sfumato.desktop.ui.settings import RECENT_LIMIT, Settings
from sfumato.desktop.ui.tiles import TILE, TileCache, level_for
from sfumato.desktop.ui.viewport import Viewport
from tests.desktop.document.helpers import random_pixels, solid


@pytest.mark.usefixtures("qapp")
@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 3), (5, 7, 4)])
def test_pixels_survive_the_trip_through_a_qimage(shape: tuple[int, ...]) -> None:
    pixels = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    image = to_qimage(pixels[:, ::-1] if len(shape) == 3 else pixels)  # a non-contiguous view too
    back = to_rgba_array(image)
    expected = pixels[:, ::-1] if len(shape) == 3 else pixels
    if len(shape) == 2:
        assert np.array_equal(back[..., 0], expected) and (back[..., 3] == 255).all()
    else:
        assert np.array_equal(back[..., : shape[2]], expected)
    pixels[...] = 0
    assert np.array_equal(to_rgba_array(image), back), "the image owns its pixels"


def test_the_viewport_maps_both_ways_and_zooms_about_a_point() -> None:
    view = Viewport(scale=2.0, origin_x=10, origin_y=-4)
    assert view.to_widget(15, 0) == (10, 8)
    assert view.to_canvas(10, 8) == (15, 0)
    zoomed = view.zoomed(3.0, 100, 50)
    assert zoomed.scale == 6.0
    assert zoomed.to_canvas(100, 50) == pytest.approx(view.to_canvas(100, 50))
    assert view.visible(40, 20) == Rect(10, -4, 20, 10)
    assert Viewport(scale=1.3).next_zoom_step(+1) * 1.3 == pytest.approx(2 ** (2 / 4))
    fitted = Viewport.fitting(Rect(0, 0, 1000, 500), 548, 548, margin=24)
    assert fitted.scale == pytest.approx(0.5)


def test_levels_of_detail_average_in_premultiplied_alpha(qapp: object) -> None:
    assert [level_for(s) for s in (4.0, 1.0, 0.6, 0.5, 0.26, 0.01)] == [0, 0, 0, 1, 1, 5]
    half_red = np.zeros((TILE * 2, TILE * 2, 4), np.uint8)
    half_red[:, ::2] = (255, 0, 0, 255)  # every other column red, the rest transparent
    cache = TileCache(
        lambda rect: (
            half_red[rect.y : rect.bottom, rect.x : rect.right]
            if rect.x >= 0 and rect.y >= 0 and rect.right <= TILE * 2 and rect.bottom <= TILE * 2
            else None
        )
    )
    coarse = cache.tile((1, 0, 0))
    assert coarse is not None and coarse.format() == QImage.Format.Format_RGBA8888_Premultiplied
    pixel = to_rgba_array(coarse)[10, 10]
    assert tuple(pixel) == (255, 0, 0, 128), "half-covered red, not darkened towards black"
    assert cache.tile((1, 5, 5)) is None
    half_red[:2, :2] = (0, 0, 255, 255)
    assert tuple(to_rgba_array(cache.tile((1, 0, 0)) or QImage())[0, 0]) == (255, 0, 0, 128), (
        "served from the cache"
    )
    cache.invalidate(Rect(0, 0, 2, 2))
    assert tuple(to_rgba_array(cache.tile((1, 0, 0)) or QImage())[0, 0]) == (0, 0, 255, 255)
    assert tuple(to_rgba_array(cache.tile((1, 0, 0)) or QImage())[2, 2]) == (255, 0, 0, 128)


def test_prompt_weights_are_highlighted() -> None:
    text = "a (red:1.3) cat, [blurry] (soft:0.5) \\(x\\) BREAK (open"
    highlights, depth = prompt_highlights(text)
    spans = {(text[h.start : h.start + h.length], h.span) for h in highlights}
    assert ("red", Span.UP) in spans
    assert (":1.3)", Span.SYNTAX) in spans
    assert ("blurry", Span.DOWN) in spans
    assert ("soft", Span.DOWN) in spans, "an explicit weight below 1 reads as weighted down"
    assert ("\\(", Span.ESCAPE) in spans and ("BREAK", Span.BREAK) in spans
    assert ("open", Span.UP) in spans and depth == ("(",)
    next_line, depth = prompt_highlights("still open) plain", depth)
    assert next_line[0].span is Span.UP and depth == ()


def settings(**changes: object) -> GenerationSettings:
    return GenerationSettings(model="m", prompt="p", **changes)  # type: ignore[arg-type]


def test_outpaint_keeps_an_aligned_box_of_the_painting() -> None:
    document = Document(frame=Frame(0, 0, 128, 64))
    document.add_layer("paint", pixels=random_pixels(50, 70, seed=3, opaque=True), x=21, y=5)
    job = plan_generation(document, settings()).job
    assert isinstance(job, Outpaint)
    # The painted box is x 21..91, y 5..55; the kept box is the aligned one inside it.
    assert (job.left, job.top, job.right, job.bottom) == (24, 8, 128 - 88, 64 - 48)
    assert np.array_equal(job.init, document.composite(Rect(24, 8, 64, 40))[..., :3])


def test_scattered_paint_is_completed_by_inpainting_the_holes() -> None:
    document = Document(frame=Frame(0, 0, 64, 64))
    pixels = solid(64, 64, (50, 50, 50, 255))
    pixels[20:30, 20:30, 3] = 0  # a hole in the middle
    document.add_layer("paint", pixels=pixels)
    job = plan_generation(document, settings()).job
    assert isinstance(job, Inpaint)
    assert job.mask[20:30, 20:30].all() and job.mask.sum() == 100 * 255


def test_generating_without_a_model_says_what_to_do() -> None:
    from sfumato.core.api import BadInput

    with pytest.raises(BadInput, match="Choose a model"):
        plan_generation(Document(), GenerationSettings(model="", prompt="x"))


def test_settings_keep_recent_lists_short_and_survive_a_restart(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "studio.json"
    first = Settings(path)
    for number in range(RECENT_LIMIT + 3):
        first.add_recent("recent_files", f"/pictures/{number}.ora")
    first.add_recent("recent_files", "/pictures/5.ora")
    first.save()
    again = Settings(path).recent("recent_files")
    assert again[0] == "/pictures/5.ora" and len(again) == RECENT_LIMIT and len(set(again)) == RECENT_LIMIT
