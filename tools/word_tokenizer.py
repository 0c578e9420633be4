"""A CLIP byte-level BPE vocabulary whose merges spell out a short list of whole words.

Small models trained here (the demo model, test fixtures) need a tokenizer the regular CLIP
tokenizer class can read, but not CLIP's 49,408 tokens: listed words become one token each, and any
other text still tokenizes letter by letter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path


def byte_alphabet() -> list[str]:
    """The printable stand-ins that byte-level BPE uses for the 256 byte values (as in GPT-2/CLIP)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), 256)]
    chars = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def write_word_tokenizer(folder: Path, words: Iterable[str]) -> int:
    """Write vocab.json and merges.txt into `folder`; returns the vocabulary size."""
    folder.mkdir(parents=True, exist_ok=True)
    alphabet = byte_alphabet()
    vocab: list[str] = [*alphabet, *(c + "</w>" for c in alphabet)]
    merges: list[str] = []
    for word in words:
        pieces = [*word[:-1], word[-1] + "</w>"]
        while len(pieces) > 1:
            merged = pieces[0] + pieces[1]
            rule = f"{pieces[0]} {pieces[1]}"
            if rule not in merges:
                merges.append(rule)
                vocab.append(merged)
            pieces = [merged, *pieces[2:]]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    (folder / "vocab.json").write_text(json.dumps({tok: i for i, tok in enumerate(vocab)}), "utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", "utf-8")
    return len(vocab)
