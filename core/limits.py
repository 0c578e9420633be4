"""The limits Sfumato works within, in one place: the engine, the command line, the image loader and
the recipe reader all check against these numbers, so a request is refused early, the same way
everywhere, before anything large is allocated. README.md ("What Sfumato guarantees") lists them.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sfumato.core.api import BadInput

MIN_SIDE = 8
MAX_SIDE = 4096
"""Sides of a generated image, and of an image or mask the loader agrees to open, in pixels."""
SIZE_STEP = 8
MAX_PIXELS = MAX_SIDE * MAX_SIDE

MAX_STEPS = 500
MAX_BATCH = 100
MIN_CFG = 0.0
MAX_CFG = 50.0
SEED_RANGE = 2**32
"""Seeds are 0 to SEED_RANGE - 1; -1 asks for a random one."""
MAX_MASK_BLUR = 256
"""Pixels a mask edge may be softened by."""

MIN_PROMPT_WEIGHT = -10.0
MAX_PROMPT_WEIGHT = 10.0
"""The weight a prompt fragment may end up with, nesting included: ((x)) is 1.21, (x:1.5) is 1.5.
Far beyond it the other words are drowned out and the picture turns to a flat colour (1e30 gave a
uniform grey)."""
MAX_PROMPT_TEXT = 10_000
"""Characters in a prompt: some 25 of the text encoder's 75-token windows of ordinary words. Every
window costs a text-encoder pass, and memory in every denoising step."""
MAX_NESTING = 100
"""Brackets in a prompt, or lists and objects in a recipe value, nested deeper than this are refused."""

MAX_RECIPE_TEXT = 256 * 1024
"""Characters of "parameters" text (a PNG's recipe) that are read; larger is refused as damaged."""
MAX_PNG_CHUNKS = 100_000
"""Chunks of a PNG the recipe reader walks through before calling the file damaged."""
MAX_QUOTED = 120
"""Characters of outside text an error message quotes; the rest is elided."""


def quoted(text: str, limit: int = MAX_QUOTED) -> str:
    """`text` short enough to quote in a message: its start, an ellipsis and its length."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 20]}… ({len(text):,} characters)"


def _refused(message: str) -> BadInput:
    # Imported here, not above: core/api.py declares the settings' ranges with these numbers.
    from sfumato.core.api import BadInput

    return BadInput(message)


def check_whole(value: int, low: int, high: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):  # e.g. 4.5 from a JSON job
        raise _refused(f"{what} must be a whole number; got {quoted(repr(value))}.")
    if not low <= value <= high:
        raise _refused(f"{what} must be between {low} and {high}; got {quoted(str(value))}.")


def check_number(value: float, low: float, high: float, what: str) -> None:
    if not (math.isfinite(value) and low <= value <= high):
        raise _refused(f"{what} must be between {low:g} and {high:g}; got {value:g}.")


def check_steps(steps: int, what: str = "Steps") -> None:
    check_whole(steps, 1, MAX_STEPS, what)


def check_cfg(cfg: float, what: str = "CFG scale") -> None:
    check_number(cfg, MIN_CFG, MAX_CFG, what)


def check_batch(batch: int, what: str = "Batch count") -> None:
    check_whole(batch, 1, MAX_BATCH, what)


def check_seed(seed: int, what: str = "Seed") -> None:
    if seed != -1 and not 0 <= seed < SEED_RANGE:
        raise _refused(
            f"{what} must be -1 (random) or between 0 and {SEED_RANGE - 1}; got {quoted(str(seed))}."
        )


def check_mask_blur(pixels: int, what: str = "Mask blur") -> None:
    check_whole(pixels, 0, MAX_MASK_BLUR, what)


def check_side(pixels: int, what: str) -> None:
    check_whole(pixels, MIN_SIDE, MAX_SIDE, what)


def check_size(width: int, height: int, what: str = "The image size") -> None:
    """A size to generate at: MIN_SIDE to MAX_SIDE pixels a side, multiples of SIZE_STEP."""
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        size = f"{quoted(str(width), 20)}×{quoted(str(height), 20)}"
        raise _refused(f"{what} {size} is outside {MIN_SIDE}–{MAX_SIDE} pixels per side.")
    if width % SIZE_STEP or height % SIZE_STEP:
        raise _refused(f"{what} {width}×{height} is not a multiple of {SIZE_STEP} in both directions.")


def check_prompt_weight(weight: float, text: str) -> None:
    if not (math.isfinite(weight) and MIN_PROMPT_WEIGHT <= weight <= MAX_PROMPT_WEIGHT):
        raise _refused(
            f'The weight of "{quoted(text.strip(), 60)}" in the prompt comes to {weight:g}; weights must '
            f"be between {MIN_PROMPT_WEIGHT:g} and {MAX_PROMPT_WEIGHT:g} (brackets multiply: ((word)) is "
            "1.21). Use a smaller weight or fewer brackets."
        )
