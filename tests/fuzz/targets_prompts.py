"""Hostile prompts: any text must parse into weighted chunks or a clear BadInput, and be cut into the
text encoder's windows by a real CLIP tokenizer."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import strategies as st

from sfumato.core.limits import MAX_PROMPT_TEXT
from sfumato.core.prompts import parse_weighted, prompt_chunks
from tests.support.fuzzing import FuzzTarget
from tests.support.tiny_models import tiny_tokenizer

_PROMPT_ALPHABET = st.sampled_from(
    [*"()[]:\\,. ab1e-+|", "1e30", "nan", "inf", "(((", ")))", "BREAK", " BREAK ", ":1.5)", ":-9)", "\\("]
)
# A unit repeated up to the longest prompt and a little past it: what makes a backtracking or
# rescanning parser slow.
_REPEATED = st.builds(
    lambda unit, count: unit * min(count, (MAX_PROMPT_TEXT + 100) // len(unit)),
    st.lists(_PROMPT_ALPHABET, min_size=1, max_size=5).map("".join),
    st.integers(min_value=1, max_value=MAX_PROMPT_TEXT),
)
prompt_text = st.one_of(
    st.text(max_size=2000),
    st.lists(_PROMPT_ALPHABET, max_size=3000).map("".join),
    st.lists(st.one_of(_PROMPT_ALPHABET, _REPEATED, st.text(max_size=20)), max_size=6).map("".join),
)

# One thread (read at each call): the examples' limit counts the process's CPU time, and the
# tokenizer's idle worker threads spin.
os.environ["TOKENIZERS_PARALLELISM"] = "false"
_TOKENIZER = tiny_tokenizer(Path(tempfile.mkdtemp(prefix="sfumato-fuzz-tokenizer-")))
prompt_chunks(_TOKENIZER, "a")  # the tokenizer sets itself up on first use: not the cost of an example


def chunks_of(text: str) -> object:
    return prompt_chunks(_TOKENIZER, text)


TARGETS = [
    FuzzTarget("prompt weights", prompt_text, parse_weighted),
    FuzzTarget("prompt chunks", prompt_text, chunks_of),
]
