"""Where each keyframe lies in the zoom's world, and how neighbouring keyframes are blended.

The world is measured in pixels of keyframe 0, centred on its middle. Keyframe k covers a centred
rectangle `scale ** level(k)` times as wide and high as keyframe 0, where the level is k zooming out
and -k zooming in; a larger scale per axis is allowed so that a shrunk keyframe has whole pixels.

Where a keyframe lies inside a larger one, it is drawn over it, faded in from its edge (the taper):
- zooming out, the inner keyframe is the older one. The newer one holds it shrunk, bit-identical
  except for a band of `mask_blur` pixels along the seam; the fade starts just inside that band,
  where both show the same picture and only the sharpness changes.
- zooming in, the inner keyframe is the newer one, redrawn from an enlarged crop; it differs a little
  everywhere, so it is cross-faded over a wider band from its very edge.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

# Resampling reaches a couple of pixels beyond the seam band; the fade starts after that.
SEAM_SAFETY = 2.0
OUT_FADE = 4.0  # pixels of the outer keyframe
IN_FADE_FRACTION = 0.125  # of the keyframe's shorter side


class Direction(enum.StrEnum):
    OUT = "out"
    IN = "in"


@dataclass(frozen=True)
class Taper:
    """The fade of an inner keyframe, in its own pixels from each edge: 0 up to `start`, rising
    linearly to 1 over `width`, per axis."""

    start_x: float
    start_y: float
    width_x: float
    width_y: float


@dataclass(frozen=True)
class ZoomGeometry:
    direction: Direction
    width: int
    height: int
    scale_x: float
    scale_y: float
    taper: Taper

    def level(self, keyframe: float) -> float:
        """How many keyframe-steps outward keyframe (or view) `keyframe` lies."""
        return keyframe if self.direction is Direction.OUT else -keyframe


def shrunk_size(width: int, height: int, factor: float) -> tuple[int, int]:
    """Zooming out: the size the previous keyframe is shrunk to, centred with equal whole margins."""
    margin_x = round((width - width / factor) / 2)
    margin_y = round((height - height / factor) / 2)
    return width - 2 * margin_x, height - 2 * margin_y


def widest_mask_blur(width: int, height: int, factor: float) -> int:
    """Zooming out, the widest seam blend that leaves part of each shrunk keyframe untouched."""
    inner = min(shrunk_size(width, height, factor))
    return max(0, math.ceil(inner / 2 - SEAM_SAFETY - OUT_FADE) - 1)


def crop_box(width: int, height: int, factor: float) -> tuple[float, float, float, float]:
    """Zooming in: the centred part of the previous keyframe that the next one enlarges."""
    half_width, half_height = width / (2 * factor), height / (2 * factor)
    return (
        width / 2 - half_width,
        height / 2 - half_height,
        width / 2 + half_width,
        height / 2 + half_height,
    )


def zoom_geometry(
    direction: Direction, width: int, height: int, factor: float, mask_blur: int
) -> ZoomGeometry:
    if direction is Direction.OUT:
        inner_width, inner_height = shrunk_size(width, height, factor)
        scale_x, scale_y = width / inner_width, height / inner_height
        seam = mask_blur + SEAM_SAFETY
        taper = Taper(seam * scale_x, seam * scale_y, OUT_FADE * scale_x, OUT_FADE * scale_y)
    else:
        scale_x = scale_y = factor
        fade = IN_FADE_FRACTION * min(width, height)
        taper = Taper(0.0, 0.0, fade, fade)
    return ZoomGeometry(direction, width, height, scale_x, scale_y, taper)
