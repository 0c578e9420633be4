"""Prompt changes typed as text (`3: a castle`, `4.5s: a castle`): hostile text is refused quickly."""

from __future__ import annotations

import time

import pytest

from sfumato.core.api import BadInput
from sfumato.core.zoom.cues import parse_cue


@pytest.mark.parametrize(
    "text",
    ["1" + " " * 50_000 + "x: a castle", "9" * 5000 + ": a castle", "1." + "5" * 5000 + "s: a castle"],
    ids=["spaces", "5000-digit-keyframe", "5000-digit-time"],
)
def test_hostile_cues_are_refused_quickly_quoting_a_line_at_most(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(BadInput) as caught:
        parse_cue(text)  # the spaces took 6 s; the digits raised Python's ValueError
    assert time.perf_counter() - started < 0.5
    assert len(caught.value.message) < 300


def test_cues_with_spaces_around_their_parts_still_read() -> None:
    assert parse_cue(" 3 : a castle").keyframe == 3
    assert parse_cue(" 4.5 s : a castle").seconds == 4.5
