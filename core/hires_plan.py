"""Whether and how a frame is drawn in two passes (see `hires`): plain arithmetic, no torch, so a
front end can show the strategy before anything runs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sfumato.core.api import BadInput, JobBase

# A frame up to this many times the native side (by its pixel count) is drawn in one pass: models
# cope with frames a little off their training size, and a second pass costs time.
MARGIN = 1.25
MAX_FACTOR = 8.0
# The most one hires pass enlarges; larger factors are climbed in passes of at most this each.
# Up to it, one pass redrawing less (see `pass_strength`) keeps outlines better than two of 2 ×.
STAGE_FACTOR = 4.0
AUTO, OFF = "auto", "off"


@dataclass(frozen=True)
class HiresPlan:
    """Draw at `first_width` × `first_height`, then upscale by `factor` and refine."""

    first_width: int
    first_height: int
    factor: float

    @property
    def stages(self) -> int:
        """How many hires passes climb the factor, each enlarging by at most `STAGE_FACTOR`."""
        return max(1, math.ceil(math.log(self.factor, STAGE_FACTOR) - 1e-6))

    def pass_strength(self, strength: float) -> float:
        """What each hires pass redraws at: `strength` for a pass of up to 2 ×, less for a larger
        one. Enlarged further, the first pass's outline is further from the sizes the model draws
        at its native scale, and a redraw as strong reshapes it towards them (a circle into a lumpy
        square). A pass of 2^n × redraws at 1 - (1 - s)^(1/n): n such passes keep of their picture
        what one at s keeps (a pass keeps about 1 - its strength)."""
        doublings = math.log2(self.factor) / self.stages
        if doublings <= 1:
            return strength
        return 1 - (1 - strength) ** (1 / doublings)

    def stage_sizes(self, width: int, height: int) -> list[tuple[int, int]]:
        """The size each hires pass redraws at, the last being the frame's `width` × `height`."""
        sizes = []
        for stage in range(1, self.stages):
            step = (self.factor ** (stage / self.stages)) / self.factor
            sizes.append((_round_to_8(width * step), _round_to_8(height * step)))
        return [*sizes, (width, height)]

    @property
    def recorded(self) -> str:
        """The factor as the recipe writes it ("Hires upscale: 4")."""
        return f"{self.factor:g}"


def hires_factor(text: str) -> float | None:
    """The factor a `hires` setting asks for; None for "auto" (and "off")."""
    word = text.strip().lower()
    if word in (AUTO, OFF):
        return None
    try:
        factor = float(word)
    except ValueError:
        factor = math.nan
    if not 1 <= factor <= MAX_FACTOR:
        raise BadInput(
            f'Hires fix must be "auto", "off" or an upscale factor from 1 to {MAX_FACTOR:g}; got "{text}".'
        )
    return factor


def check_hires(job: JobBase) -> None:
    """Refuse a `hires` setting that is none of its forms (the upscaler is checked when it loads)."""
    hires_factor(job.hires)


def plan_hires(hires: str, width: int, height: int, native: int) -> HiresPlan | None:
    """How a frame of `width` × `height` is drawn for a model of `native` pixels a side, or None
    when it is drawn in one pass."""
    if hires.strip().lower() == OFF:
        return None
    factor = hires_factor(hires)
    if factor is None:
        factor = math.sqrt(width * height) / native
        if factor <= MARGIN:
            return None
    first_width, first_height = _round_to_8(width / factor), _round_to_8(height / factor)
    if (first_width, first_height) == (width, height):
        return None
    return HiresPlan(first_width, first_height, round(width / first_width, 2))


def _round_to_8(value: float) -> int:
    return max(8, round(value / 8) * 8)


def first_pass_size(hires: str, width: int, height: int) -> tuple[int, int]:
    """The size the first pass drew at for a frame of `width` × `height` whose recipe records the
    hires factor `hires` (the frame's own size when that is no factor a pass could have used)."""
    try:
        factor = hires_factor(hires)
    except BadInput:
        return width, height
    plan = None if factor is None else plan_hires(hires, width, height, native=max(width, height))
    return (width, height) if plan is None else (plan.first_width, plan.first_height)
