"""The generation frame: snapping and what lies under it."""

from __future__ import annotations

import numpy as np
import pytest

from sfumato.desktop.document import BlendMode, Content, Document, Frame, FrameCoverage, Rect
from tests.desktop.document.helpers import solid


def test_frame_snaps_to_multiples_of_eight_with_a_minimum_size() -> None:
    assert Frame() == Frame(0, 0, 512, 512)
    assert Frame(3, 5, 500, 10) == Frame(0, 8, 504, 64)
    assert Frame(-13, 12, 1023, 1028) == Frame(-16, 16, 1024, 1032)
    assert Frame.native(768) == Frame(0, 0, 768, 768)
    assert Frame.native(1024, 576, x=100) == Frame(104, 0, 1024, 576)


@pytest.mark.parametrize(
    ("pixels", "offset", "expected"),
    [
        (None, (0, 0), Content.EMPTY),
        (solid(64, 64, (0, 0, 0, 0)), (0, 0), Content.EMPTY),  # transparent pixels are empty
        (solid(64, 64, (9, 9, 9, 255)), (0, 0), Content.FULL),
        (solid(80, 80, (9, 9, 9, 255)), (-8, -8), Content.FULL),
        (solid(64, 64, (9, 9, 9, 255)), (32, 0), Content.PARTIAL),  # hangs out of the frame
        (solid(64, 64, (9, 9, 9, 200)), (0, 0), Content.PARTIAL),  # translucent
        (solid(64, 64, (9, 9, 9, 255)), (64, 64), Content.EMPTY),  # beside the frame
    ],
)
def test_coverage_classifies_the_area_under_the_frame(
    pixels: np.ndarray | None, offset: tuple[int, int], expected: Content
) -> None:
    document = Document(frame=Frame(0, 0, 64, 64))
    if pixels is not None:
        document.add_layer(pixels=pixels, x=offset[0], y=offset[1])
    assert document.frame_coverage() == FrameCoverage(content=expected, masked=False)


def test_coverage_counts_only_visible_layers_and_stacks_them() -> None:
    document = Document(frame=Frame(0, 0, 64, 64))
    left = document.add_layer(pixels=solid(64, 32, (1, 1, 1, 255)))
    document.add_layer(pixels=solid(64, 32, (1, 1, 1, 255)), x=32, blend=BlendMode.MULTIPLY)
    assert document.frame_coverage().content is Content.FULL
    document.set_layer_properties(left, visible=False)
    assert document.frame_coverage().content is Content.PARTIAL


def test_coverage_tells_whether_the_mask_reaches_under_the_frame() -> None:
    document = Document(frame=Frame(0, 0, 64, 64))
    document.mask_rect(Rect(64, 0, 10, 10))
    assert not document.frame_coverage().masked
    document.mask_rect(Rect(60, 0, 10, 10))
    assert document.frame_coverage().masked
    document.move_frame(200, 200)
    assert not document.frame_coverage().masked
