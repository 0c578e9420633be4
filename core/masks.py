"""Mask operations: grow, feather, composite and the crop used by "only masked area" inpainting.

Masks are `uint8` arrays (H, W) where 255 means "repaint"; values in between are partial coverage.
Distances here are Chebyshev (chessboard) distances: the pixels within `n` of a pixel form a
(2n + 1) x (2n + 1) square around it. Pure numpy, no torch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sfumato.core.api import BadInput
from sfumato.core.limits import check_mask_blur

Box = tuple[int, int, int, int]


def mask_bounds(mask: np.ndarray) -> Box | None:
    """(x0, y0, x1, y1), ends exclusive, of the nonzero pixels; None for an empty mask."""
    _check_mask(mask)
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def grow_mask(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Dilate the mask by `pixels` (a square reach); a negative value shrinks it instead.

    The image border does not eat into the mask when shrinking: what lies beyond it counts as
    continuing the edge pixels.
    """
    _check_mask(mask)
    if pixels == 0:
        return mask.copy()
    op = np.maximum if pixels > 0 else np.minimum
    reach = abs(int(pixels))
    grown = _running_extreme(mask, reach, axis=0, op=op)
    return _running_extreme(grown, reach, axis=1, op=op)


def feather_mask(mask: np.ndarray, radius: int) -> np.ndarray:
    """A soft alpha (float32, 0..1) for compositing, blurred across the mask edge by `radius`.

    The blur is a tent (two box blurs whose widths add up to `radius`), computed with exact integer
    sums, so the support is strictly bounded: a pixel more than `radius` pixels (Chebyshev) away from
    every nonzero mask pixel is exactly 0.0, and a pixel whose whole `radius` neighbourhood is 255 is
    exactly 1.0. Across a straight edge the ramp is smooth and monotone. Radius 0 gives mask / 255.
    """
    _check_mask(mask)
    check_mask_blur(radius)  # before any allocation: the work grows with the radius
    alpha = np.zeros(mask.shape, dtype=np.float32)
    bounds = mask_bounds(mask)
    if bounds is None:
        return alpha
    if radius == 0:
        return (mask / np.float32(255)).astype(np.float32)

    # Only the mask's bounds plus the radius can be nonzero; everything beyond stays exactly 0.
    height, width = mask.shape
    x0, y0, x1, y1 = bounds
    x0, y0 = max(0, x0 - radius), max(0, y0 - radius)
    x1, y1 = min(width, x1 + radius), min(height, y1 + radius)

    sums = mask[y0:y1, x0:x1].astype(np.int64)
    first = radius // 2
    second = radius - first
    for half_width in (first, second):
        sums = box_sum(box_sum(sums, half_width, axis=0), half_width, axis=1)
    full = 255 * ((2 * first + 1) * (2 * second + 1)) ** 2
    alpha[y0:y1, x0:x1] = sums / full
    return alpha


def composite(original: np.ndarray, generated: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend `generated` over `original` by `alpha` (H, W) in 0..1 (a uint8 mask also works).

    Where alpha is 0 the result is bit-identical to `original`; where it is 1, to `generated`.
    """
    if original.shape != generated.shape or original.ndim != 3:
        raise ValueError(f"cannot composite images of shapes {original.shape} and {generated.shape}")
    if alpha.shape != original.shape[:2]:
        raise ValueError(f"alpha of shape {alpha.shape} does not match images of shape {original.shape}")
    if alpha.dtype == np.uint8:
        alpha = alpha / np.float32(255)
    weight = np.clip(alpha.astype(np.float32), 0.0, 1.0)[..., None]
    base = original.astype(np.float32)
    # Exact at both ends: base + 0 == base, and base + (generated - base) == generated for small ints.
    blended = base + (generated.astype(np.float32) - base) * weight
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def crop_region_for_mask(mask: np.ndarray, padding: int, aspect: float, image_size: tuple[int, int]) -> Box:
    """The crop (x0, y0, x1, y1) to generate for "only masked area" inpainting.

    It is the mask's bounds grown by `padding` (kept inside the image), widened or heightened to
    the `aspect` ratio (width / height) of the model's native resolution and then moved, not shrunk,
    to lie inside the image. Only when the image itself is too narrow or too short for that ratio
    does the crop span the whole image in that direction and keep a different ratio.
    """
    width, height = image_size
    if padding < 0:
        raise BadInput(f"The padding around the mask must be zero or more pixels, not {padding}.")
    if not aspect > 0:
        raise ValueError(f"aspect ratio must be positive, got {aspect}")
    if mask.shape != (height, width):
        raise ValueError(f"mask of shape {mask.shape} does not match an image of size {width}x{height}")
    bounds = mask_bounds(mask)
    if bounds is None:
        raise BadInput("The mask is empty: paint over the area to repaint first.")

    x0, y0, x1, y1 = bounds
    x0, y0 = max(0, x0 - padding), max(0, y0 - padding)
    x1, y1 = min(width, x1 + padding), min(height, y1 + padding)
    crop_w, crop_h = x1 - x0, y1 - y0
    if crop_w < crop_h * aspect:
        crop_w = min(width, max(crop_w, round(crop_h * aspect)))
    else:
        crop_h = min(height, max(crop_h, round(crop_w / aspect)))
    left = _place(x0, x1, crop_w, width)
    top = _place(y0, y1, crop_h, height)
    return left, top, left + crop_w, top + crop_h


def box_sum(values: np.ndarray, half_width: int, axis: int) -> np.ndarray:
    """Sum over a window of 2 * half_width + 1 along `axis`, the edges extended outward.

    Integer input gives exact integer sums (int64); float sums keep at least float32 precision.
    """
    if half_width == 0:
        return values
    window = 2 * half_width + 1
    count = values.shape[axis]
    padding = [(0, 0)] * values.ndim
    padding[axis] = (half_width, half_width)
    if window <= _DIRECT_WINDOW:
        # Few terms: float32 keeps enough precision, and a handful of whole-array adds is fastest.
        direct = np.int64 if np.issubdtype(values.dtype, np.integer) else np.result_type(values, np.float32)
        padded = np.pad(values.astype(direct, copy=False), padding, mode="edge")
        sums = _slice(padded, 0, count, axis) + _slice(padded, 1, count + 1, axis)
        for offset in range(2, window):
            sums += _slice(padded, offset, offset + count, axis)
        return sums
    accumulate = np.int64 if np.issubdtype(values.dtype, np.integer) else np.float64
    padded = np.pad(values.astype(accumulate, copy=False), padding, mode="edge")
    # A sliding sum, one slice at a time: much faster than np.cumsum along a strided axis.
    moved = np.moveaxis(padded, axis, 0)
    sums = np.empty((count, *moved.shape[1:]), dtype=accumulate)
    running = moved[:window].sum(axis=0)
    sums[0] = running
    for index in range(1, count):
        running += moved[index + window - 1]
        running -= moved[index - 1]
        sums[index] = running
    return np.moveaxis(sums, 0, axis)


_DIRECT_WINDOW = 9


def tent_blur(values: np.ndarray, radius: int) -> np.ndarray:
    """A smooth float blur of the first two axes reaching exactly `radius` pixels."""
    blurred = values.astype(np.result_type(values, np.float32), copy=False)
    if radius <= 0:
        return blurred
    first = radius // 2
    second = radius - first
    for half_width in (first, second):
        blurred = box_sum(box_sum(blurred, half_width, axis=0), half_width, axis=1)
    return blurred / blurred.dtype.type(((2 * first + 1) * (2 * second + 1)) ** 2)


def _place(start: int, end: int, size: int, limit: int) -> int:
    """Start of a span of `size` centred on [start, end), moved to fit in [0, limit)."""
    centred = start - (size - (end - start)) // 2
    return max(0, min(centred, limit - size))


def _running_extreme(
    values: np.ndarray,
    reach: int,
    axis: int,
    op: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Max (or min) over a window of 2 * reach + 1 along `axis`, in O(log reach) array passes."""
    window = 2 * reach + 1
    padding = [(0, 0)] * values.ndim
    padding[axis] = (reach, reach)
    spans = np.pad(values, padding, mode="edge")
    span = 1
    # After each doubling, spans[i] is the extreme of `span` consecutive padded values from i.
    while 2 * span <= window:
        length = spans.shape[axis]
        spans = op(_slice(spans, 0, length - span, axis), _slice(spans, span, length, axis))
        span *= 2
    count = values.shape[axis]
    offset = window - span
    return op(_slice(spans, 0, count, axis), _slice(spans, offset, offset + count, axis))


def _slice(values: np.ndarray, start: int, stop: int, axis: int) -> np.ndarray:
    index = [slice(None)] * values.ndim
    index[axis] = slice(start, stop)
    return values[tuple(index)]


def _check_mask(mask: np.ndarray) -> None:
    if mask.ndim != 2 or mask.dtype != np.uint8:
        raise ValueError(f"a mask must be a uint8 array (H, W), got {mask.dtype} {mask.shape}")
