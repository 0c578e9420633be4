"""Hypothesis strategies for generation requests and recipes, made from their declared fields, so a
field added to `Request` or `Recipe` is drawn by every property test without touching it."""

from __future__ import annotations

from dataclasses import Field, fields
from typing import Any

from hypothesis import strategies as st

from sfumato.core.api import SETTING, Mode, Recipe, Request, setting_of
from sfumato.core.schedulers import sampler_names

# Any text a prompt or a model name may hold (lone surrogates cannot be stored as UTF-8 at all).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
_LARGEST_INT = 2**63 - 1  # the recipe reader refuses larger whole numbers as damaged
_LARGEST_FLOAT = 1e6


def _value(declared: Field[Any]) -> st.SearchStrategy[Any]:
    how = setting_of(declared) if SETTING in declared.metadata else None
    low = None if how is None else how.minimum
    high = None if how is None else how.maximum
    base = str(declared.type).removesuffix(" | None")
    if declared.name == "sampler":
        values: st.SearchStrategy[Any] = st.sampled_from(sampler_names())  # jobs only take known ones
    elif base == "str":
        values = TEXT
    elif base == "int":
        values = st.integers(int(low or 0), int(high or _LARGEST_INT))
    elif base == "float":
        values = st.floats(low or 0.0, high or _LARGEST_FLOAT, allow_nan=False, allow_infinity=False)
    elif base == "Mode":
        values = st.sampled_from(Mode)
    elif base.startswith("dict"):
        values = st.just({})  # extras: keys Sfumato does not model, tested on their own
    else:
        raise TypeError(f"no strategy for the field {declared.name}: {declared.type}; add one here")
    return st.none() | values if str(declared.type).endswith("| None") else values


def _of(kind: type[Any]) -> st.SearchStrategy[Any]:
    return st.builds(kind, **{declared.name: _value(declared) for declared in fields(kind)})


def requests() -> st.SearchStrategy[Request]:
    """Requests with every field drawn from its declared type and range."""
    return _of(Request)


def recipes() -> st.SearchStrategy[Recipe]:
    """Recipes with every field drawn, the shared ones and those of a recipe alone."""
    return _of(Recipe)
