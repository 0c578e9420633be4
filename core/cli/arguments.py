"""Argument types for the command line: each turns text into a value or says what is wrong."""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from dataclasses import Field
from typing import Any

from sfumato.core.api import request_fields, setting_of
from sfumato.core.imaging import OUTPAINT_STEP
from sfumato.core.limits import MAX_SIDE, quoted
from sfumato.core.models.defaults import FIELDS as MODEL_DEFAULTED_FIELDS

EXTEND_SIDES = ("left", "top", "right", "bottom")
# ASCII digits only: str.isdigit() also takes "²", which int() refuses.
_WHOLE = re.compile(r"[+-]?([0-9]+)")
_MARGIN = re.compile(r"[0-9]{1,9}")
_MAX_DIGITS = 30


def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """A whole number (plain digits 0-9, optionally signed) from `minimum` to `maximum`."""

    def parse(text: str) -> int:
        found = _WHOLE.fullmatch(text.strip())
        if found is None:
            raise argparse.ArgumentTypeError(f"expected a whole number, not '{quoted(text)}'")
        if len(found.group(1)) > _MAX_DIGITS:
            raise argparse.ArgumentTypeError(f"{quoted(text)} is far too large")
        value = int(found.group(0))
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be {_range(minimum, maximum, False)}, not {value}")
        return value

    return parse


def number(
    minimum: float, maximum: float | None = None, *, above_minimum: bool = False
) -> Callable[[str], float]:
    """A number from `minimum` (excluded when `above_minimum`) to `maximum`."""

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, not '{quoted(text)}'") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a number, not '{quoted(text)}'")
        too_low = value <= minimum if above_minimum else value < minimum
        if too_low or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(
                f"must be {_range(minimum, maximum, above_minimum)}, not {quoted(text)}"
            )
        return value

    return parse


def _range(minimum: float, maximum: float | None, above_minimum: bool) -> str:
    low = _shown(minimum)
    if maximum is None:
        return f"above {low}" if above_minimum else f"{low} or more"
    high = _shown(maximum)
    return f"above {low} and at most {high}" if above_minimum else f"from {low} to {high}"


def _shown(value: float) -> str:
    """4294967295, not 4.29497e+09; 0.5 as 0.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def extend_margins(text: str) -> tuple[int, int, int, int]:
    """`LEFT,TOP,RIGHT,BOTTOM` in pixels, e.g. `0,0,128,0` to extend the image 128 pixels to the right."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != len(EXTEND_SIDES) or not all(_MARGIN.fullmatch(part) for part in parts):
        raise argparse.ArgumentTypeError(
            "expected four whole numbers LEFT,TOP,RIGHT,BOTTOM in pixels (e.g. 0,0,128,0), "
            f"not '{quoted(text)}'"
        )
    margins = tuple(int(part) for part in parts)
    for side, margin in zip(EXTEND_SIDES, margins, strict=True):
        if margin % OUTPAINT_STEP:
            raise argparse.ArgumentTypeError(
                f"the {side} margin is {margin} pixels; each margin must be a multiple of {OUTPAINT_STEP}"
            )
        if margin > MAX_SIDE:
            raise argparse.ArgumentTypeError(
                f"the {side} margin is {margin} pixels; images are at most {MAX_SIDE} pixels a side"
            )
    if not any(margins):
        raise argparse.ArgumentTypeError("all four margins are 0; give at least one side to extend")
    left, top, right, bottom = margins
    return left, top, right, bottom


def add_request_options(
    group: argparse._ActionsContainer, *, left_out_is_none: bool = False, leave_out: tuple[str, ...] = ()
) -> None:
    """The options of the generation settings every command shares (`--steps`, `--seed`, ...),
    from their declaration in `sfumato.core.api.Request`; `leave_out` names the fields a command
    declares an option of its own for.

    With `left_out_is_none`, an option left out reads None instead of its declared default, so the
    command can tell it apart and fill it from a recipe or the model's own defaults."""
    for declared in request_fields():
        how = setting_of(declared)
        if how.flag is not None and declared.name not in leave_out:
            group.add_argument(
                how.flag,
                type=_value_type(declared),
                default=None if left_out_is_none else declared.default,
                metavar=how.metavar,
                help=f"{how.help}, unless the model has its own"
                if left_out_is_none and declared.name in MODEL_DEFAULTED_FIELDS
                else how.help,
            )


def request_options(args: argparse.Namespace) -> dict[str, Any]:
    """The values of the options `add_request_options` added, by field name."""
    return {
        declared.name: getattr(args, declared.name)
        for declared in request_fields()
        if setting_of(declared).flag is not None
    }


def _value_type(declared: Field[Any]) -> Callable[[str], Any]:
    how = setting_of(declared)
    if declared.type == "str":
        return str
    if how.minimum is None:
        raise TypeError(f"the option {how.flag} needs a declared minimum")
    if declared.type == "int":
        return whole_number(int(how.minimum), None if how.maximum is None else int(how.maximum))
    return number(how.minimum, how.maximum)
