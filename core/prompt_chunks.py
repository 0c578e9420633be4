"""How a prompt's tokens fill CLIP's 75-token windows, without torch: the engine encodes these
chunks, and the studio counts them in the prompt box, so both always agree.

A chunk that runs full ends after its last comma when that comma is within the last
`COMMA_LOOKBACK` tokens, so a phrase is not split; `BREAK` always starts a new chunk.
`<lora:...>` tags are left out (core/prompt_addons.py). A textual-inversion embedding's name takes
as many tokens as the embedding has vectors, never split between chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sfumato.core.api import BadInput
from sfumato.core.prompt_addons import embedding_pattern, without_lora_tags
from sfumato.core.prompt_syntax import BREAK, Fragment, parse_weighted

COMMA_LOOKBACK = 20
CHUNK_TOKENS = 75  # CLIP reads 77 tokens: start, 75 of text, end

Tokenize = Callable[[list[str]], list[list[int]]]
"""Token ids of each text, without start and end tokens."""

Slot = tuple[str, int] | None
"""The embedding vector (embedding name, row) a token stands for, if any."""


@dataclass
class ChunkContents:
    """The token ids of one chunk, their weights, and which embedding vector each stands for."""

    ids: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)

    def cut(self, at: int) -> ChunkContents:
        """Keep the tokens before `at`; return those from `at` on."""
        rest = ChunkContents(self.ids[at:], self.weights[at:], self.slots[at:])
        del self.ids[at:], self.weights[at:], self.slots[at:]
        return rest

    def add(self, token: int, weight: float, slot: Slot = None) -> None:
        self.ids.append(token)
        self.weights.append(weight)
        self.slots.append(slot)


Piece = tuple[str, float, str | None]  # text, weight, and an embedding's name when it is one


def chunk_contents(
    text: str,
    tokenize: Tokenize,
    comma: int | None,
    capacity: int = CHUNK_TOKENS,
    embeddings: Mapping[str, int] | None = None,
    placeholder: int = 0,
) -> list[ChunkContents]:
    """The tokens of each chunk (at least one, even for an empty prompt). `embeddings`: the number
    of vectors of each embedding, whose name in the prompt stands for that many `placeholder` tokens."""
    counts = embeddings or {}
    pieces = _pieces(parse_weighted(without_lora_tags(text)), counts)
    words = [piece[0] for piece in pieces if piece is not None and piece[2] is None]
    tokenized = iter(tokenize(words) if words else [])

    contents: list[ChunkContents] = []
    chunk = ChunkContents()
    last_comma = -1
    for piece in pieces:
        if piece is None:  # BREAK
            contents.append(chunk)
            chunk, last_comma = ChunkContents(), -1
            continue
        _text, weight, embedding = piece
        if embedding is not None:
            count = _vector_count(counts, embedding, capacity)
            if len(chunk.ids) + count > capacity:
                contents.append(chunk)
                chunk, last_comma = ChunkContents(), -1
            for row in range(count):
                chunk.add(placeholder, weight, (embedding, row))
            continue
        for token in next(tokenized):
            if len(chunk.ids) == capacity:
                # Full: if a comma is near the end, move the words after it to the next chunk.
                cut = (
                    last_comma + 1 if token != comma and capacity - last_comma <= COMMA_LOOKBACK else capacity
                )
                contents.append(chunk)
                chunk, last_comma = chunk.cut(cut), -1
            if token == comma:
                last_comma = len(chunk.ids)
            chunk.add(token, weight)
    if chunk.ids or not contents:
        contents.append(chunk)
    return contents


def _pieces(fragments: list[Fragment], embeddings: Mapping[str, int]) -> list[Piece | None]:
    """The weighted fragments, with each embedding's name made a piece of its own; None for BREAK."""
    pattern = embedding_pattern(embeddings)
    by_key = {name.casefold(): name for name in embeddings}
    pieces: list[Piece | None] = []
    for fragment in fragments:
        if fragment is BREAK:
            pieces.append(None)
            continue
        text, weight = fragment
        start = 0
        for match in pattern.finditer(text) if pattern is not None else ():
            pieces.append((text[start : match.start()], weight, None))
            pieces.append((match.group(0), weight, by_key[match.group(0).casefold()]))
            start = match.end()
        pieces.append((text[start:], weight, None))
    return pieces


def _vector_count(embeddings: Mapping[str, int], name: str, capacity: int) -> int:
    count = embeddings[name]
    if count > capacity:
        raise BadInput(f'The embedding "{name}" is {count} tokens long; one prompt chunk holds {capacity}.')
    return count
