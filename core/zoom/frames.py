"""Video frames of a continuous zoom through the keyframes, rendered with numpy and Pillow.

Every frame is a view of one fixed world (see `geometry`): the keyframes stacked by size, each faded
in over the larger one around it. The view's size changes exponentially with time, so the zoom has a
constant perceived speed, and since the world never changes, nothing jumps at keyframe boundaries and
nothing wobbles. Each keyframe is resampled straight from its own pixels to the frame, so a pixel is
never enlarged twice; where a sharper keyframe covers part of the view it is drawn there, and larger
keyframes only fill what it does not reach.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from sfumato.core.zoom.geometry import ZoomGeometry

_RESAMPLE = Image.Resampling.BICUBIC


def frame_positions(keyframes: int, fps: float, seconds_per_keyframe: float) -> list[float]:
    """The keyframe position (0 … keyframes - 1) shown by each video frame."""
    frames_per_keyframe = fps * seconds_per_keyframe
    count = math.floor((keyframes - 1) * frames_per_keyframe + 1e-9) + 1
    return [index / frames_per_keyframe for index in range(count)]


@dataclass(frozen=True)
class _Placement:
    """A keyframe's place in one frame: `pixels_per_output` of its own pixels per frame pixel."""

    keyframe: int
    pixels_per_output_x: float
    pixels_per_output_y: float


class ZoomRenderer:
    """Renders frames of size `size` (width, height) from keyframes laid out by `geometry`.

    The view keeps the frame's aspect ratio: when it differs from the keyframes', the view is the
    largest centred part of them with that ratio.
    """

    def __init__(
        self, keyframes: Sequence[np.ndarray], geometry: ZoomGeometry, size: tuple[int, int]
    ) -> None:
        if len(keyframes) < 1:
            raise ValueError("a zoom needs at least one keyframe")
        for image in keyframes:
            if image.shape != (geometry.height, geometry.width, 3) or image.dtype != np.uint8:
                raise ValueError(
                    f"keyframe of shape {image.shape} in a {geometry.width}x{geometry.height} zoom"
                )
        self.geometry = geometry
        self.size = size
        self._images = [Image.fromarray(np.ascontiguousarray(image)) for image in keyframes]
        width, height = geometry.width, geometry.height
        out_width, out_height = size
        if out_width / out_height >= width / height:
            self._view = (float(width), width * out_height / out_width)
        else:
            self._view = (height * out_width / out_height, float(height))

    def frame(self, position: float) -> np.ndarray:
        """The frame showing keyframe position `position` (0 … keyframes - 1) as RGB uint8."""
        position = min(max(position, 0.0), len(self._images) - 1.0)
        placements = self._visible(position)
        canvas = self._sample_whole(placements[-1])
        for placement in reversed(placements[:-1]):
            self._draw_faded(canvas, placement)
        return np.clip(np.rint(canvas), 0, 255).astype(np.uint8)

    # ---- which keyframes ------------------------------------------------------------------------

    def _visible(self, position: float) -> list[_Placement]:
        """The keyframes to draw, innermost first; the last one covers the whole view opaquely."""
        g = self.geometry
        count = len(self._images)
        inner_to_outer = range(count) if g.level(1) > 0 else range(count - 1, -1, -1)
        out_width, out_height = self.size
        view_level = g.level(position)
        chosen: list[_Placement] = []
        for keyframe in inner_to_outer:
            steps_out = view_level - g.level(keyframe)
            per_x = g.scale_x**steps_out * self._view[0] / out_width
            per_y = g.scale_y**steps_out * self._view[1] / out_height
            is_outermost = keyframe == inner_to_outer[-1]
            if not is_outermost and (g.width / per_x < 1 or g.height / per_y < 1):
                continue  # smaller than a frame pixel
            placement = _Placement(keyframe, per_x, per_y)
            chosen.append(placement)
            if is_outermost or self._covers_view(placement):
                break
        return chosen

    def _covers_view(self, placement: _Placement) -> bool:
        """Whether the keyframe is fully faded in over the whole view."""
        g, taper = self.geometry, self.geometry.taper
        half_x = self.size[0] / 2 * placement.pixels_per_output_x
        half_y = self.size[1] / 2 * placement.pixels_per_output_y
        return (
            g.width / 2 - half_x >= taper.start_x + taper.width_x
            and g.height / 2 - half_y >= taper.start_y + taper.width_y
        )

    # ---- resampling -----------------------------------------------------------------------------

    def _sample_whole(self, placement: _Placement) -> np.ndarray:
        g = self.geometry
        out_width, out_height = self.size
        half_x = out_width / 2 * placement.pixels_per_output_x
        half_y = out_height / 2 * placement.pixels_per_output_y
        box = (
            max(0.0, g.width / 2 - half_x),
            max(0.0, g.height / 2 - half_y),
            min(float(g.width), g.width / 2 + half_x),
            min(float(g.height), g.height / 2 + half_y),
        )
        image = self._images[placement.keyframe].resize(self.size, _RESAMPLE, box=box)
        return np.asarray(image, dtype=np.float32)

    def _draw_faded(self, canvas: np.ndarray, placement: _Placement) -> None:
        """Blend the keyframe over `canvas` where it lies in the frame, by its taper."""
        g, taper = self.geometry, self.geometry.taper
        columns = _covered_span(self.size[0], g.width, placement.pixels_per_output_x)
        rows = _covered_span(self.size[1], g.height, placement.pixels_per_output_y)
        if columns is None or rows is None:
            return
        (left, right, xs), (top, bottom, ys) = columns, rows
        weight_x = (np.minimum(xs, g.width - xs) - taper.start_x) / taper.width_x
        weight_y = (np.minimum(ys, g.height - ys) - taper.start_y) / taper.width_y
        weight = np.clip(np.minimum.outer(weight_y, weight_x), 0.0, 1.0).astype(np.float32)
        if not weight.any():
            return
        box = (
            _edge(left, self.size[0], g.width, placement.pixels_per_output_x),
            _edge(top, self.size[1], g.height, placement.pixels_per_output_y),
            _edge(right, self.size[0], g.width, placement.pixels_per_output_x),
            _edge(bottom, self.size[1], g.height, placement.pixels_per_output_y),
        )
        image = self._images[placement.keyframe].resize((right - left, bottom - top), _RESAMPLE, box=box)
        region = canvas[top:bottom, left:right]
        region += (np.asarray(image, dtype=np.float32) - region) * weight[..., None]


def _edge(index: int, out_length: int, length: int, per_output: float) -> float:
    """The keyframe coordinate of frame pixel edge `index`, kept inside the keyframe."""
    return min(max(length / 2 + (index - out_length / 2) * per_output, 0.0), float(length))


def _covered_span(out_length: int, length: int, per_output: float) -> tuple[int, int, np.ndarray] | None:
    """The frame pixels [start, end) lying wholly inside the keyframe along one axis, and the
    keyframe coordinates of their centres; None when there are none."""
    half = length / 2 / per_output
    start = max(0, math.ceil(out_length / 2 - half - 1e-6))
    end = min(out_length, math.floor(out_length / 2 + half + 1e-6))
    if end <= start:
        return None
    centres = length / 2 + (np.arange(start, end, dtype=np.float64) + 0.5 - out_length / 2) * per_output
    return start, end, centres
