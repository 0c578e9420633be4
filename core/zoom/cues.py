"""Reading prompt changes written as text: `K: prompt` from keyframe K on, `Ts: prompt` from T seconds
into the video on. One reader serves the command line and the studio, so `3:` means the same in both.

Keyframes are counted from 0, the first one, so that keyframe K fills the screen at K × the seconds per
keyframe: `3:` and `3s:` agree at one second per keyframe.
"""

from __future__ import annotations

import re

from sfumato.core.api import BadInput
from sfumato.core.limits import quoted
from sfumato.core.zoom.settings import PromptCue

CUE_FORMAT = 'KEYFRAME:PROMPT or SECONDSs:PROMPT, like "3: a castle" or "4.5s: a castle"'
# Stripped first: "\s*" on both sides of an optional "s" would backtrack quadratically over spaces.
_CUE_AT = re.compile(r"(\d{1,9}(?:\.\d{0,9})?)\s*(s?)")


def parse_cue(text: str) -> PromptCue:
    """One `K: prompt` or `Ts: prompt`; BadInput says what is wrong."""
    at, colon, prompt = text.partition(":")
    found = _CUE_AT.fullmatch(at.strip())
    if not colon or found is None or not prompt.strip():
        raise BadInput(f'"{quoted(text.strip())}" should be {CUE_FORMAT}.')
    amount, seconds = found.group(1), found.group(2)
    if seconds:
        return PromptCue(prompt.strip(), seconds=float(amount))
    if "." in amount:
        raise BadInput(
            f'"{quoted(text.strip())}": keyframes are whole numbers (0 is the first); write a time with '
            'an "s", like "4.5s: a castle".'
        )
    return PromptCue(prompt.strip(), keyframe=int(amount))


def parse_cues(text: str) -> tuple[PromptCue, ...]:
    """One cue per line; blank lines are skipped. An error names the line."""
    cues = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cues.append(parse_cue(line))
        except BadInput as error:
            raise BadInput(f"Prompt change line {number}: {error.message}") from None
    return tuple(cues)
