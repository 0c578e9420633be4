"""A synthetic infinite picture for zoom tests: a two-armed spiral, detailed at every scale, so
every keyframe and every ideal video frame can be drawn exactly from it."""

from __future__ import annotations

import numpy as np

from sfumato.core.zoom.geometry import ZoomGeometry

SUPERSAMPLING = 4


def spiral(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """RGB in 0..1 at world points; scaling the world turns the spiral, so a wrong scale shows."""
    radius = np.hypot(x, y) + 1e-9
    angle = np.arctan2(y, x)
    red = 0.5 + 0.5 * np.sin(3 * np.log(radius) + 3 * angle)
    green = 0.5 + 0.5 * np.cos(2 * np.log(radius) - 2 * angle)
    blue = 0.5 + 0.25 * np.sin(angle)
    return np.stack([red, green, blue], axis=-1)


def view(width: int, height: int, extent_x: float, extent_y: float) -> np.ndarray:
    """The world around its centre, `extent` world units per pixel, averaged over sub-pixels."""
    total = np.zeros((height, width, 3))
    for i in range(SUPERSAMPLING):
        for j in range(SUPERSAMPLING):
            xs = (np.arange(width) + (i + 0.5) / SUPERSAMPLING - width / 2) * extent_x
            ys = (np.arange(height) + (j + 0.5) / SUPERSAMPLING - height / 2) * extent_y
            total += spiral(xs[None, :], ys[:, None])
    return np.clip(np.rint(total / SUPERSAMPLING**2 * 255), 0, 255).astype(np.uint8)


def keyframes(geometry: ZoomGeometry, count: int) -> list[np.ndarray]:
    return [
        view(
            geometry.width,
            geometry.height,
            geometry.scale_x ** geometry.level(k),
            geometry.scale_y ** geometry.level(k),
        )
        for k in range(count)
    ]


def ideal_frame(geometry: ZoomGeometry, position: float, size: tuple[int, int]) -> np.ndarray:
    """What a perfect camera shows at keyframe position `position`, filling `size` (cropping the
    keyframes' aspect ratio to the frame's)."""
    width, height = size
    per_pixel = min(geometry.width / width, geometry.height / height)
    return view(
        width,
        height,
        per_pixel * geometry.scale_x ** geometry.level(position),
        per_pixel * geometry.scale_y ** geometry.level(position),
    )
