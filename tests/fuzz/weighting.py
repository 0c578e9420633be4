"""Weighting for fuzz strategies, shared by the target modules."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def mostly(usual: Any, *rare: Any) -> Any:
    """`usual` nine times in ten, so that most inputs get far enough to exercise the deeper checks.

    (`st.one_of` flattens nested choices, so repeating a strategy in it does not weight it; the rare
    pick is a middle value because Hypothesis favours the ends of a range.)"""
    return st.integers(0, 9).flatmap(lambda pick: st.one_of(*rare) if pick == 4 else usual)
