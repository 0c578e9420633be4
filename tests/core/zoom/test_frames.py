"""The continuous zoom between keyframes, checked against a perfect camera moving through a
synthetic world that the keyframes were drawn from."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sfumato.core.zoom.frames import ZoomRenderer, frame_positions
from sfumato.core.zoom.geometry import zoom_geometry
from sfumato.core.zoom.settings import Direction
from tests.core.zoom.world import ideal_frame, keyframes

KEYFRAMES = 4
SIZE = 64


def psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64))[where] ** 2)
    return float(10 * np.log10(255**2 / max(error, 1e-12)))


def away_from_centre(width: int, height: int, radius: float = 6.0) -> np.ndarray:
    """The spiral winds infinitely tight at its centre, which no pixel grid can show."""
    ys, xs = np.mgrid[0:height, 0:width]
    return np.hypot(xs + 0.5 - width / 2, ys + 0.5 - height / 2) > radius


def mean_change(frames: list[np.ndarray]) -> np.ndarray:
    return np.array([np.abs(b.astype(float) - a.astype(float)).mean() for a, b in itertools.pairwise(frames)])


@pytest.mark.parametrize("direction", list(Direction))
@pytest.mark.parametrize("size", [(SIZE, SIZE), (96, 48)], ids=["same-size", "wide-video"])
def test_every_frame_is_what_a_camera_zooming_at_constant_speed_would_see(
    direction: Direction, size: tuple[int, int]
) -> None:
    geometry = zoom_geometry(direction, SIZE, SIZE, factor=2.0, mask_blur=8)
    renderer = ZoomRenderer(keyframes(geometry, KEYFRAMES), geometry, size)
    where = away_from_centre(*size)

    for position in frame_positions(KEYFRAMES, fps=6, seconds_per_keyframe=1.0):
        frame = renderer.frame(position)
        assert frame.shape == (size[1], size[0], 3)
        # Bicubic resampling of 4×-supersampled keyframes stays far above 35 dB; a frame zoomed
        # by a wrong amount, off-centre, or from the wrong keyframes turns the spiral and falls far
        # below it.
        assert psnr(frame, ideal_frame(geometry, position, size), where) > 35, position


def test_a_wrongly_scaled_frame_fails_the_camera_comparison() -> None:
    geometry = zoom_geometry(Direction.OUT, SIZE, SIZE, factor=2.0, mask_blur=8)
    renderer = ZoomRenderer(keyframes(geometry, KEYFRAMES), geometry, (SIZE, SIZE))
    where = away_from_centre(SIZE, SIZE)
    # Half way by time, but a linear zoom would be at 1.5× instead of 2 ** 0.5 ≈ 1.41×.
    linear_position = float(np.log2(1.5))
    assert psnr(renderer.frame(linear_position), ideal_frame(geometry, 0.5, (SIZE, SIZE)), where) < 30


@pytest.mark.parametrize("factor", [2.0, 1.5, 3.0])
@pytest.mark.parametrize("direction", list(Direction))
def test_consecutive_frames_change_evenly_through_keyframe_boundaries(
    direction: Direction, factor: float
) -> None:
    geometry = zoom_geometry(direction, SIZE, SIZE, factor=factor, mask_blur=4)
    renderer = ZoomRenderer(keyframes(geometry, KEYFRAMES), geometry, (SIZE, SIZE))
    frames = [renderer.frame(p) for p in frame_positions(KEYFRAMES, fps=8, seconds_per_keyframe=1.0)]
    changes = mean_change(frames)
    # The world is self-similar, so a constant-speed zoom changes every frame by about as much;
    # a jump at a keyframe boundary would stand far above its neighbours.
    assert changes.max() < 1.5 * np.median(changes)
    assert changes.min() > 0.5 * np.median(changes)
    where = away_from_centre(SIZE, SIZE)
    positions = frame_positions(KEYFRAMES, fps=8, seconds_per_keyframe=1.0)
    assert (
        min(
            psnr(f, ideal_frame(geometry, p, (SIZE, SIZE)), where)
            for f, p in zip(frames, positions, strict=True)
        )
        > 35
    )


def test_frames_start_and_end_on_the_first_and_last_keyframes() -> None:
    positions = frame_positions(5, fps=10, seconds_per_keyframe=0.5)
    assert len(positions) == 4 * 5 + 1
    assert positions[0] == 0 and positions[-1] == pytest.approx(4)
    geometry = zoom_geometry(Direction.IN, SIZE, SIZE, factor=2.0, mask_blur=8)
    images = keyframes(geometry, 3)
    renderer = ZoomRenderer(images, geometry, (SIZE, SIZE))
    # Zooming in, the last keyframe has nothing sharper inside it: the last frame shows its own
    # pixels, unresampled, inside the rim where it fades into the keyframe before.
    rim = round(geometry.taper.start_x + geometry.taper.width_x)
    inside = (slice(rim, SIZE - rim), slice(rim, SIZE - rim))
    assert np.array_equal(renderer.frame(2.0)[inside], images[2][inside])
