"""Masks as the artist relies on them: feathering never touches pixels away from the mask, and the
"only masked area" crop frames the mask at the model's aspect ratio without leaving the image."""

from __future__ import annotations

import numpy as np
import pytest

from sfumato.core.api import BadInput
from sfumato.core.masks import composite, crop_region_for_mask, feather_mask, grow_mask, mask_bounds


def _chebyshev_distance_to_mask(mask: np.ndarray) -> np.ndarray:
    """Brute force reference: distance of every pixel to the nearest nonzero pixel."""
    ys, xs = np.nonzero(mask)
    grid_y, grid_x = np.mgrid[0 : mask.shape[0], 0 : mask.shape[1]]
    distances = np.maximum(
        np.abs(grid_y[..., None] - ys[None, None, :]), np.abs(grid_x[..., None] - xs[None, None, :])
    )
    return distances.min(axis=2)


def _blob_mask() -> np.ndarray:
    mask = np.zeros((48, 64), dtype=np.uint8)
    grid_y, grid_x = np.mgrid[0:48, 0:64]
    mask[(grid_y - 20) ** 2 + (grid_x - 30) ** 2 < 10**2] = 255
    mask[30:36, 40:58] = 255
    return mask


@pytest.mark.parametrize("radius", [1, 2, 5, 8])
def test_feather_is_exactly_zero_beyond_the_radius_and_one_deep_inside(radius: int) -> None:
    mask = _blob_mask()
    alpha = feather_mask(mask, radius)
    outside = _chebyshev_distance_to_mask(mask)
    inside = _chebyshev_distance_to_mask(255 - mask)

    assert alpha.dtype == np.float32 and alpha.shape == mask.shape
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0
    assert np.all(alpha[outside > radius] == 0.0)
    assert np.all(alpha[inside > radius] == 1.0)
    # It really is soft: the edge has values strictly between 0 and 1 on both sides.
    edge = (outside == 1) | (inside == 1)
    assert np.all((alpha[edge] > 0.0) & (alpha[edge] < 1.0))


def test_feather_falls_off_monotonically_away_from_the_mask() -> None:
    mask = np.zeros((40, 80), dtype=np.uint8)
    mask[:, :40] = 255
    alpha = feather_mask(mask, 12)
    row = alpha[20]
    assert np.all(np.diff(row) <= 0.0)
    assert row[27] == 1.0 and row[52] == 0.0
    assert 0.4 < row[39] < 0.6 or 0.4 < row[40] < 0.6


def test_feather_radius_zero_is_the_hard_mask_and_empty_masks_stay_empty() -> None:
    mask = _blob_mask()
    assert np.array_equal(feather_mask(mask, 0), (mask == 255).astype(np.float32))
    assert not feather_mask(np.zeros((8, 8), dtype=np.uint8), 4).any()
    with pytest.raises(BadInput):
        feather_mask(mask, -1)


def test_a_mask_covering_the_whole_image_feathers_to_all_ones() -> None:
    mask = np.full((16, 24), 255, dtype=np.uint8)
    assert np.all(feather_mask(mask, 6) == 1.0)


def test_composite_keeps_pixels_beyond_the_feather_bit_identical() -> None:
    rng = np.random.default_rng(7)
    original = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    generated = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    mask = _blob_mask()
    radius = 4
    result = composite(original, generated, feather_mask(mask, radius))

    far = _chebyshev_distance_to_mask(mask) > radius
    deep = _chebyshev_distance_to_mask(255 - mask) > radius
    assert result.dtype == np.uint8
    assert np.array_equal(result[far], original[far])
    assert np.array_equal(result[deep], generated[deep])
    # In the feather the result lies between the two images.
    ramp = ~far & ~deep
    low = np.minimum(original, generated)[ramp]
    high = np.maximum(original, generated)[ramp]
    assert np.all((result[ramp] >= low) & (result[ramp] <= high))


def test_composite_blends_halfway_at_half_alpha() -> None:
    original = np.zeros((2, 2, 3), dtype=np.uint8)
    generated = np.full((2, 2, 3), 200, dtype=np.uint8)
    result = composite(original, generated, np.full((2, 2), 0.5, dtype=np.float32))
    assert np.all(result == 100)


def test_mask_bounds_are_exclusive_and_none_when_empty() -> None:
    mask = np.zeros((10, 20), dtype=np.uint8)
    assert mask_bounds(mask) is None
    mask[3, 5] = 255
    mask[7, 12] = 1
    assert mask_bounds(mask) == (5, 3, 13, 8)


def test_grow_and_shrink_by_whole_pixels() -> None:
    mask = np.zeros((30, 30), dtype=np.uint8)
    mask[10:20, 12:18] = 255
    grown = grow_mask(mask, 3)
    assert mask_bounds(grown) == (9, 7, 21, 23)
    assert np.all(grown[7:23, 9:21] == 255) and grown.sum() == 255 * 16 * 12
    shrunk = grow_mask(mask, -2)
    assert mask_bounds(shrunk) == (14, 12, 16, 18)
    assert np.all(shrunk[12:18, 14:16] == 255) and shrunk.sum() == 255 * 6 * 2
    assert np.array_equal(grow_mask(grown, -3), mask)
    assert np.array_equal(grow_mask(mask, 0), mask)


def test_shrinking_does_not_eat_in_from_the_image_border() -> None:
    mask = np.zeros((20, 20), dtype=np.uint8)
    mask[:, :8] = 255
    assert mask_bounds(grow_mask(mask, -2)) == (0, 0, 6, 20)


def _contains(outer: tuple[int, int, int, int], inner: tuple[int, int, int, int]) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]


@pytest.mark.parametrize(
    ("image_size", "box", "padding", "aspect"),
    [
        ((512, 512), (200, 220, 240, 300), 16, 1.0),  # tall mask in the middle, square model
        ((768, 512), (300, 100, 500, 140), 32, 1.0),  # wide mask
        ((768, 512), (10, 10, 40, 30), 32, 1.5),  # in the top-left corner: shifted, not cut
        ((640, 480), (600, 400, 640, 480), 24, 0.75),  # touching the bottom-right corner
        ((1024, 256), (500, 100, 520, 120), 64, 768 / 512),
    ],
)
def test_crop_frames_the_padded_mask_at_the_aspect_inside_the_image(
    image_size: tuple[int, int], box: tuple[int, int, int, int], padding: int, aspect: float
) -> None:
    width, height = image_size
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[box[1] : box[3], box[0] : box[2]] = 255
    x0, y0, x1, y1 = crop_region_for_mask(mask, padding, aspect, image_size)

    padded = (
        max(0, box[0] - padding),
        max(0, box[1] - padding),
        min(width, box[2] + padding),
        min(height, box[3] + padding),
    )
    assert _contains((x0, y0, x1, y1), padded)
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    crop_w, crop_h = x1 - x0, y1 - y0
    # Right ratio up to rounding to whole pixels.
    assert abs(crop_w - crop_h * aspect) <= max(1.0, aspect)
    # Not needlessly large: one side is exactly the padded mask's.
    assert crop_w == padded[2] - padded[0] or crop_h == padded[3] - padded[1]


def test_crop_spans_the_whole_side_when_the_image_is_too_narrow_for_the_ratio() -> None:
    mask = np.zeros((400, 100), dtype=np.uint8)
    mask[100:300, 40:60] = 255
    x0, y0, x1, y1 = crop_region_for_mask(mask, 8, 1.0, (100, 400))
    assert (x0, x1) == (0, 100)
    assert y0 <= 92 and y1 >= 308 and y1 <= 400


def test_crop_of_an_empty_mask_is_refused() -> None:
    with pytest.raises(BadInput, match="empty"):
        crop_region_for_mask(np.zeros((64, 64), dtype=np.uint8), 8, 1.0, (64, 64))
