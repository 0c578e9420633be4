"""What an infinite-zoom render is asked to do: the model, prompts over time, geometry and pacing."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sfumato.core.api import BadInput, Request, check_request
from sfumato.core.zoom.geometry import Direction, widest_mask_blur

__all__ = ["Direction", "PromptCue", "ZoomSettings", "check_settings"]

MAX_KEYFRAMES = 1000
SEED_RANGE = 2**32  # as the engine's
MIN_FACTOR = 1.1
MAX_FACTOR = 8.0
DEFAULT_ZOOM_IN_STRENGTH = 0.5
MIN_KEYFRAME_SIDE = 8


@dataclass(frozen=True)
class PromptCue:
    """From keyframe `keyframe` on, or from the keyframe on screen at `seconds`, use `prompt`.

    Exactly one of `keyframe` and `seconds` is given."""

    prompt: str
    keyframe: int | None = None
    seconds: float | None = None

    def first_keyframe(self, seconds_per_keyframe: float) -> int:
        """The first keyframe this prompt applies to."""
        if self.keyframe is not None:
            return self.keyframe
        assert self.seconds is not None
        # Keyframe k fills the screen at k × seconds_per_keyframe; a tiny tolerance keeps 3.0 s at 3.
        return max(0, math.ceil(self.seconds / seconds_per_keyframe - 1e-9))


@dataclass(frozen=True, kw_only=True)
class ZoomSettings(Request):
    """An infinite zoom: `keyframes` images, each `factor` times wider (out) or narrower (in) in view
    than the one before, played at `seconds_per_keyframe`. `prompt` is used until a cue changes it;
    the other generation settings (`Request`'s) apply to every keyframe, `width`×`height` its size.

    `strength`: zooming in, how much each enlarged crop is redrawn (default 0.5); zooming out, how
    much the new border is repainted (None: full for inpainting models, most for others)."""

    model: str
    cues: tuple[PromptCue, ...] = ()
    direction: Direction = Direction.OUT
    keyframes: int = 8
    factor: float = 2.0
    strength: float | None = None
    mask_blur: int = 8
    seconds_per_keyframe: float = 1.0

    @property
    def redraw_strength(self) -> float | None:
        if self.direction is Direction.IN and self.strength is None:
            return DEFAULT_ZOOM_IN_STRENGTH
        return self.strength

    def prompt_for(self, keyframe: int) -> str:
        """The prompt of keyframe `keyframe`: the last cue that starts at or before it."""
        starts = sorted(
            (cue.first_keyframe(self.seconds_per_keyframe), order, cue.prompt)
            for order, cue in enumerate(self.cues)
        )
        prompt = self.prompt
        for first, _order, text in starts:
            if first <= keyframe:
                prompt = text
        return prompt


def check_settings(settings: ZoomSettings) -> None:
    """Refuse settings that cannot make a zoom, with a message saying what to change."""
    check_request(settings)
    if not 2 <= settings.keyframes <= MAX_KEYFRAMES:
        raise BadInput(f"A zoom needs 2 to {MAX_KEYFRAMES} keyframes; {settings.keyframes} were asked for.")
    if not MIN_FACTOR <= settings.factor <= MAX_FACTOR:
        raise BadInput(
            f"The zoom factor must be between {MIN_FACTOR:g} and {MAX_FACTOR:g}; got {settings.factor:g}."
        )
    if not (math.isfinite(settings.seconds_per_keyframe) and settings.seconds_per_keyframe > 0):
        raise BadInput(f"The seconds per keyframe must be above 0; got {settings.seconds_per_keyframe:g}.")
    if settings.width % 8 or settings.height % 8 or min(settings.width, settings.height) < 16:
        raise BadInput(
            f"The keyframe size {settings.width}×{settings.height} must be a multiple of 8 and at least "
            "16 pixels on both sides."
        )
    if settings.mask_blur < 0:
        raise BadInput(f"The mask blur must be zero or more pixels, not {settings.mask_blur}.")
    strength = settings.redraw_strength
    if strength is not None and not 0 < strength <= 1:
        raise BadInput(f"Strength must be above 0 and at most 1; got {strength:g}.")
    for cue in settings.cues:
        _check_cue(cue, settings.keyframes)
    inner = min(settings.width, settings.height) / settings.factor
    if inner < MIN_KEYFRAME_SIDE:
        raise BadInput(
            f"A zoom factor of {settings.factor:g} leaves less than {MIN_KEYFRAME_SIDE} pixels of a "
            f"{settings.width}×{settings.height} keyframe; use a smaller factor or a larger size."
        )
    widest = widest_mask_blur(settings.width, settings.height, settings.factor)
    if settings.direction is Direction.OUT and settings.mask_blur > widest:
        raise BadInput(
            f"A mask blur of {settings.mask_blur} pixels would blend away the whole shrunk keyframe at "
            f"{settings.width}×{settings.height} with a zoom factor of {settings.factor:g}; use at most "
            f"{widest}, a smaller factor or a larger size."
        )


def _check_cue(cue: PromptCue, keyframes: int) -> None:
    if (cue.keyframe is None) == (cue.seconds is None):
        raise BadInput(f'The prompt change "{cue.prompt}" needs either a keyframe number or a time.')
    if cue.keyframe is not None and not 0 <= cue.keyframe < keyframes:
        raise BadInput(
            f'The prompt change "{cue.prompt}" is at keyframe {cue.keyframe}, but the keyframes are '
            f"numbered 0 to {keyframes - 1}."
        )
    if cue.seconds is not None and not (math.isfinite(cue.seconds) and cue.seconds >= 0):
        raise BadInput(
            f'The prompt change "{cue.prompt}" must be at 0 seconds or later, not {cue.seconds:g}.'
        )
