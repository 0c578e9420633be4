"""Compositing: blend modes against values worked out by hand from the W3C formulas."""

from __future__ import annotations

import numpy as np
import pytest

from sfumato.desktop.document import BlendMode, Layer, Rect
from sfumato.desktop.document.compositing import composite, composite_alpha
from tests.desktop.document.helpers import random_pixels, solid

# Backdrop and source grey levels chosen so the fractions are exact: 102 = 0.4, 153 = 0.6, 204 = 0.8.
CB, CS = 102, 153


def _pair(mode: BlendMode, backdrop: int = CB, source: int = CS, opacity: float = 1.0) -> int:
    bottom = Layer(solid(1, 1, (backdrop, backdrop, backdrop, 255)))
    top = Layer(solid(1, 1, (source, source, source, 255)), blend=mode, opacity=opacity)
    out = composite([bottom, top], Rect(0, 0, 1, 1))
    assert out[0, 0, 3] == 255
    assert out[0, 0, 0] == out[0, 0, 1] == out[0, 0, 2]
    return int(out[0, 0, 0])


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (BlendMode.NORMAL, 153),  # Cs
        (BlendMode.MULTIPLY, 61),  # 0.4·0.6 = 0.24 → 61.2
        (BlendMode.SCREEN, 194),  # 0.4 + 0.6 − 0.24 = 0.76 → 193.8
        (BlendMode.OVERLAY, 122),  # Cb ≤ ½: 2·0.4·0.6 = 0.48 → 122.4
        (BlendMode.DARKEN, 102),
        (BlendMode.LIGHTEN, 153),
        (BlendMode.DIFFERENCE, 51),  # 0.2
        (BlendMode.EXCLUSION, 133),  # 0.4 + 0.6 − 2·0.24 = 0.52 → 132.6
        (BlendMode.HARD_LIGHT, 133),  # Cs > ½: screen(0.4, 0.2) = 0.52
        (BlendMode.SOFT_LIGHT, 114),  # 0.4 + 0.2·(√0.4 − 0.4) = 0.4465 → 113.86
        (BlendMode.COLOR_DODGE, 255),  # 0.4 / (1 − 0.6) = 1
        (BlendMode.COLOR_BURN, 0),  # 1 − (1 − 0.4) / 0.6 = 0
    ],
)
def test_blend_modes_over_an_opaque_backdrop(mode: BlendMode, expected: int) -> None:
    assert _pair(mode) == expected


def test_overlay_over_a_light_backdrop_screens() -> None:
    # Cb = 0.8 > ½: screen(0.6, 2·0.8 − 1) = 0.6 + 0.6 − 0.36 = 0.84 → 214.2
    assert _pair(BlendMode.OVERLAY, backdrop=204) == 214


def test_half_opaque_multiply_mixes_with_the_backdrop() -> None:
    # αs = 0.5: 0.5·0.24 + 0.5·0.4 = 0.32 → 81.6
    assert _pair(BlendMode.MULTIPLY, opacity=0.5) == 82


def test_blend_over_a_half_transparent_backdrop_follows_the_general_formula() -> None:
    # αb = 0.5, αs = 1: co = (1 − 0.5)·0.6 + 0.5·0.24 = 0.42, αo = 1 → 107.1
    bottom = Layer(solid(1, 1, (CB, CB, CB, 255)), opacity=0.5)
    top = Layer(solid(1, 1, (CS, CS, CS, 255)), blend=BlendMode.MULTIPLY)
    out = composite([bottom, top], Rect(0, 0, 1, 1))
    assert out[0, 0].tolist() == [107, 107, 107, 255]


def test_normal_with_both_layers_half_transparent() -> None:
    # red at 0.5 under blue at 0.5: αo = 0.75, red 0.25/0.75 = ⅓ → 85, blue 0.5/0.75 = ⅔ → 170
    bottom = Layer(solid(1, 1, (255, 0, 0, 255)), opacity=0.5)
    top = Layer(solid(1, 1, (0, 0, 255, 255)), opacity=0.5)
    out = composite([bottom, top], Rect(0, 0, 1, 1))
    assert out[0, 0].tolist() == [85, 0, 170, 191]


def test_a_single_layer_composites_to_its_own_pixels() -> None:
    pixels = random_pixels(40, 50, seed=7)
    pixels[pixels[..., 3] == 0] = 0  # colour under zero alpha is not kept
    out = composite([Layer(pixels, x=5, y=-3)], Rect(5, -3, 50, 40))
    assert np.array_equal(out, pixels)


def test_only_the_requested_rectangle_is_returned_and_offsets_are_respected() -> None:
    layer = Layer(solid(10, 10, (10, 20, 30, 255)), x=100, y=200)
    out = composite([layer], Rect(95, 195, 10, 10))
    assert out.shape == (10, 10, 4)
    assert out[:5].sum() == 0 and out[:, :5].sum() == 0
    assert (out[5:, 5:] == [10, 20, 30, 255]).all()


def test_hidden_and_fully_transparent_layers_do_not_count() -> None:
    bottom = Layer(solid(4, 4, (0, 255, 0, 255)))
    hidden = Layer(solid(4, 4, (255, 0, 0, 255)), visible=False)
    clear = Layer(solid(4, 4, (0, 0, 255, 255)), opacity=0.0)
    out = composite([bottom, hidden, clear], Rect(0, 0, 4, 4))
    assert (out == [0, 255, 0, 255]).all()


def test_large_rectangles_are_composited_in_bands_without_seams() -> None:
    bottom = Layer(random_pixels(700, 300, seed=11, opaque=True))
    top = Layer(random_pixels(700, 300, seed=12), x=0, y=0, blend=BlendMode.SCREEN, opacity=0.7)
    whole = composite([bottom, top], Rect(0, 0, 300, 700))
    for top_row in (0, 333, 650):
        part = composite([bottom, top], Rect(0, top_row, 300, 50))
        assert np.array_equal(part, whole[top_row : top_row + 50])


def test_alpha_only_composite_matches_the_full_one() -> None:
    layers = [
        Layer(random_pixels(30, 30, seed=1), x=0, y=0),
        Layer(random_pixels(30, 30, seed=2), x=10, y=5, blend=BlendMode.OVERLAY, opacity=0.6),
        Layer(random_pixels(30, 30, seed=3), x=-4, y=12, blend=BlendMode.DIFFERENCE),
    ]
    rect = Rect(-5, -5, 50, 50)
    assert np.array_equal(composite_alpha(layers, rect), composite(layers, rect)[..., 3])


def test_a_transparent_layer_on_top_changes_nothing() -> None:
    pixels = random_pixels(40, 50, seed=8)
    pixels[pixels[..., 3] == 0] = 0
    veil = Layer(solid(40, 50, (255, 0, 0, 0)), blend=BlendMode.SCREEN)
    assert np.array_equal(composite([Layer(pixels), veil], Rect(0, 0, 50, 40)), pixels)
