"""Reading prompt weights the way AUTOMATIC1111 does (no torch here: the command line checks prompts
with it before any engine starts).

  (words)        weight ×1.1; nesting multiplies: ((words)) ×1.21
  [words]        weight ÷1.1
  (words:1.3)    weight ×1.3 (any number, also below 1 or negative; 1e2 is read as 100)
  \\( \\) \\[ \\] \\\\  the literal bracket or backslash
  BREAK          (capitals, a word of its own) ends the current 75-token chunk and starts a new one
Brackets left open are closed at the end of the prompt; a stray closing bracket is plain text.
The weight a word ends up with, brackets multiplied in, must lie within MIN_PROMPT_WEIGHT to
MAX_PROMPT_WEIGHT, brackets may nest MAX_NESTING deep, and a prompt may be MAX_PROMPT_TEXT
characters long (core/limits.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sfumato.core.api import BadInput
from sfumato.core.limits import MAX_NESTING, MAX_PROMPT_TEXT, check_prompt_weight

Fragment = tuple[str, float]

BREAK: Fragment = ("BREAK", -1.0)
"""The marker `parse_weighted` puts where the prompt says BREAK (as AUTOMATIC1111 does). It is never
weighted nor merged with neighbours; test for it with `is BREAK`."""

ROUND_FACTOR = 1.1

_SYNTAX = re.compile(
    r"""
      (?P<escaped>\\[()\[\]\\])
    | (?P<weight_close>:\s*(?P<weight>[+-]?[.\d]+(?:[eE][+-]?\d+)?)\s*\))
    | (?P<bracket>[()\[\]])
    | (?P<text>[^\\()\[\]:]+|[\\:])
    """,
    re.VERBOSE,
)
_BREAK_WORD = re.compile(r"\bBREAK\b")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@dataclass
class _Brackets:
    """The pairs of one kind of bracket, in the order they opened: each pair's factor and the pair
    around it. Pair 0 stands for "no bracket"."""

    default: float
    factors: list[float] = field(default_factory=lambda: [1.0])
    parents: list[int] = field(default_factory=lambda: [0])
    open: list[int] = field(default_factory=list)

    @property
    def innermost(self) -> int:
        return self.open[-1] if self.open else 0

    def start(self) -> None:
        self.parents.append(self.innermost)
        self.factors.append(self.default)  # a bracket left open keeps its default factor
        self.open.append(len(self.factors) - 1)

    def close(self, factor: float) -> None:
        self.factors[self.open.pop()] = factor

    def weights(self) -> list[float]:
        """The weight inside each pair: its factor times that of every pair around it."""
        weights = [1.0]
        for pair in range(1, len(self.factors)):
            weights.append(self.factors[pair] * weights[self.parents[pair]])
        return weights


def parse_weighted(text: str) -> list[Fragment]:
    """Split a prompt into (text, weight) fragments; `BREAK` markers stand between them.

    >>> parse_weighted("an (important) word")
    [('an ', 1.0), ('important', 1.1), (' word', 1.0)]

    Neighbouring fragments of equal weight are merged and empty ones dropped; a prompt with no text
    gives [("", 1.0)]. A text longer than `MAX_PROMPT_TEXT`, brackets nested deeper than
    `MAX_NESTING`, and weights (nesting included) outside `MIN_PROMPT_WEIGHT`..`MAX_PROMPT_WEIGHT`
    are refused with a BadInput.
    The time taken grows in proportion to the length of the text, whatever it holds.
    """
    if len(text) > MAX_PROMPT_TEXT:
        raise BadInput(
            f"The prompt is {len(text):,} characters long; Sfumato takes prompts of up to "
            f"{MAX_PROMPT_TEXT:,} characters."
        )
    round_brackets = _Brackets(ROUND_FACTOR)
    square_brackets = _Brackets(1 / ROUND_FACTOR)
    # Each piece of text with the innermost round and square pair around it; None stands for BREAK.
    pieces: list[tuple[str, int, int] | None] = []

    def add_text(literal: str) -> None:
        parts = _BREAK_WORD.split(literal)
        for i, part in enumerate(parts):
            if i > 0:
                pieces.append(None)
                part = part.lstrip()
            if i < len(parts) - 1:
                part = part.rstrip()
            pieces.append((part, round_brackets.innermost, square_brackets.innermost))

    for match in _SYNTAX.finditer(text):
        token = match.group(0)
        weight = _number(match["weight"]) if match["weight_close"] else None
        if match["escaped"]:
            add_text(token[1])
        elif token in "([":
            (round_brackets if token == "(" else square_brackets).start()
            if len(round_brackets.open) + len(square_brackets.open) > MAX_NESTING:
                raise BadInput(
                    f"The prompt nests brackets more than {MAX_NESTING} deep. Remove some brackets, or "
                    "write a literal bracket as \\( or \\[."
                )
        elif weight is not None and round_brackets.open:
            round_brackets.close(weight)
        elif token == ")" and round_brackets.open:
            round_brackets.close(ROUND_FACTOR)
        elif token == "]" and square_brackets.open:
            square_brackets.close(1 / ROUND_FACTOR)
        else:
            add_text(token)

    round_weights, square_weights = round_brackets.weights(), square_brackets.weights()
    merged: list[tuple[list[str], float] | None] = []  # words joined once at the end: no quadratic copying
    for piece in pieces:
        if piece is None:
            merged.append(None)
            continue
        words, round_pair, square_pair = piece
        if not words:
            continue
        weight = round_weights[round_pair] * square_weights[square_pair]
        check_prompt_weight(weight, words)
        last = merged[-1] if merged else None
        if last is not None and last[1] == weight:
            last[0].append(words)
        else:
            merged.append(([words], weight))
    fragments = [BREAK if part is None else ("".join(part[0]), part[1]) for part in merged]
    return fragments or [("", 1.0)]
