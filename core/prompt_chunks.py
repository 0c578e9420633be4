"""How a prompt's tokens fill CLIP's 75-token windows, without torch: the engine encodes these
chunks, and the studio counts them in the prompt box, so both always agree.

A chunk that runs full ends after its last comma when that comma is within the last
`COMMA_LOOKBACK` tokens, so a phrase is not split; `BREAK` always starts a new chunk.
"""

from __future__ import annotations

from collections.abc import Callable

from sfumato.core.prompt_syntax import BREAK, parse_weighted

COMMA_LOOKBACK = 20
CHUNK_TOKENS = 75  # CLIP reads 77 tokens: start, 75 of text, end

Tokenize = Callable[[list[str]], list[list[int]]]
"""Token ids of each text, without start and end tokens."""

ChunkContents = tuple[list[int], list[float]]


def chunk_contents(
    text: str, tokenize: Tokenize, comma: int | None, capacity: int = CHUNK_TOKENS
) -> list[ChunkContents]:
    """The token ids and weights of each chunk (at least one, even for an empty prompt)."""
    fragments = parse_weighted(text)
    words = [f[0] for f in fragments if f is not BREAK]
    tokenized = iter(tokenize(words) if words else [])

    contents: list[ChunkContents] = []
    ids: list[int] = []
    weights: list[float] = []
    last_comma = -1
    for fragment in fragments:
        if fragment is BREAK:
            contents.append((ids, weights))
            ids, weights, last_comma = [], [], -1
            continue
        for token in next(tokenized):
            if len(ids) == capacity:
                # Full: if a comma is near the end, move the words after it to the next chunk.
                cut = (
                    last_comma + 1 if token != comma and capacity - last_comma <= COMMA_LOOKBACK else capacity
                )
                contents.append((ids[:cut], weights[:cut]))
                ids, weights, last_comma = ids[cut:], weights[cut:], -1
            if token == comma:
                last_comma = len(ids)
            ids.append(token)
            weights.append(fragment[1])
    if ids or not contents:
        contents.append((ids, weights))
    return contents
