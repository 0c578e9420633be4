"""Zoom settings: prompts that change over time, and settings that cannot make a zoom."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sfumato.core.api import BadInput
from sfumato.core.zoom.settings import Direction, PromptCue, ZoomSettings, check_settings

BASE = ZoomSettings(model="m", prompt="a forest", keyframes=10, seconds_per_keyframe=2.0)


def test_prompts_change_from_their_keyframe_or_second_on() -> None:
    settings = replace(
        BASE,
        cues=(
            PromptCue("a castle", seconds=3.0),  # keyframe 1 is on screen at 2 s, keyframe 2 at 4 s
            PromptCue("a river", keyframe=6),
            PromptCue("the sea", seconds=8.0),  # exactly keyframe 4
        ),
    )
    prompts = [settings.prompt_for(k) for k in range(8)]
    assert prompts == ["a forest"] * 2 + ["a castle"] * 2 + ["the sea"] * 2 + ["a river"] * 2


def test_zooming_in_redraws_at_moderate_strength_unless_told() -> None:
    assert replace(BASE, direction=Direction.IN).redraw_strength == 0.5
    assert replace(BASE, direction=Direction.IN, strength=0.3).redraw_strength == 0.3
    assert BASE.redraw_strength is None  # zooming out, the engine picks the outpaint strength


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"keyframes": 1}, "2 to"),
        ({"factor": 1.0}, "zoom factor"),
        ({"width": 60}, "multiple of 8"),
        ({"seconds_per_keyframe": 0.0}, "seconds per keyframe"),
        ({"width": 64, "height": 64, "factor": 3.0, "mask_blur": 8}, "at most 4"),
        ({"cues": (PromptCue("x", keyframe=10),)}, "numbered 0 to 9"),
        ({"cues": (PromptCue("x"),)}, "keyframe number or a time"),
        ({"direction": Direction.IN, "strength": 1.5}, "Strength"),
    ],
)
def test_settings_that_cannot_zoom_are_refused_with_what_to_change(changes: dict, message: str) -> None:
    check_settings(BASE)
    with pytest.raises(BadInput, match=message):
        check_settings(replace(BASE, **changes))


@pytest.mark.parametrize("clip_skip", [0, 13])
def test_clip_skip_outside_its_range_is_refused(clip_skip: int) -> None:
    with pytest.raises(BadInput, match=f"Clip skip must be between 1 and 12; got {clip_skip}"):
        check_settings(replace(BASE, clip_skip=clip_skip))
