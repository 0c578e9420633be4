"""Hostile prompts: any text must parse into weighted chunks or a clear BadInput."""

from __future__ import annotations

from hypothesis import strategies as st

from sfumato.core.prompts import parse_weighted
from tests.support.fuzzing import FuzzTarget

_PROMPT_ALPHABET = st.sampled_from([*"()[]:\\,. ab1e-+|", "1e30", "nan", "inf", "(((", ")))"])
prompt_text = st.one_of(
    st.text(max_size=2000),
    st.lists(_PROMPT_ALPHABET, max_size=3000).map("".join),
)

TARGETS = [FuzzTarget("prompt weights", prompt_text, parse_weighted)]
