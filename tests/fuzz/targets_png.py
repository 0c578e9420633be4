"""Hostile recipes: AUTOMATIC1111 "parameters" text, alone and inside PNG files.

The files are real PNGs (signature, IHDR, IDAT, IEND with correct CRCs) whose `parameters` tEXt,
zTXt or iTXt chunk holds hostile text, sometimes with a damaged length, CRC or compressed stream,
sometimes cut short. Every one must give a Recipe, None or a BadInput, in time and bounded memory.
"""

from __future__ import annotations

import contextlib
import struct
import tempfile
import zlib
from pathlib import Path

from hypothesis import strategies as st

from sfumato.core.api import BadInput
from sfumato.core.metadata import parse_parameters, read_recipe
from tests.support.fuzzing import FuzzTarget
from tests.support.png_files import chunk, tiny_png

_VALID_LINE = "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512"
_KEYS = [
    "Steps",
    "Sampler",
    "CFG scale",
    "Seed",
    "Size",
    "Model",
    "Mask blur",
    "Denoising strength",
    "Sfumato mode",
    "Sfumato prompt",
    "Hires upscale",
    "Lora hashes",
    "Schedule type",
    "x y-z/w",
]
_PIECES = st.sampled_from(
    [
        *_KEYS,
        ": ",
        ", ",
        ",",
        ":",
        '"',
        "\\",
        '\\"',
        "{",
        "}",
        "[",
        "]",
        "[1, ",
        '{"a": ',
        "true",
        "-Infinity",
        "1e999",
        "nan",
        "x",
        "512x768",
        "9" * 50,
        " ",
        "\t",
        "\n",
        "Negative prompt: ",
        "é",
        "\u2028",
    ]
)
# A unit repeated up to tens of thousands of times (at most _LONGEST characters): what makes a
# backtracking or rescanning parser slow.
_LONGEST = 60_000
_REPEATED = st.builds(
    lambda unit, count: unit * min(count, _LONGEST // len(unit)),
    st.lists(_PIECES, min_size=1, max_size=6).map("".join),
    st.integers(min_value=1, max_value=_LONGEST),
)
_LINE_PARTS = st.one_of(_PIECES, _REPEATED, st.text(max_size=40))
hostile_line = st.lists(_LINE_PARTS, max_size=12).map("".join)
parameters_text = st.one_of(
    st.text(max_size=3000),
    st.builds(lambda head, line: f"{head}\n{_VALID_LINE}, {line}", st.text(max_size=200), hostile_line),
    st.builds(lambda head, line: f"{head}\n{line}", hostile_line, hostile_line),
    st.builds(lambda line: f"{_VALID_LINE}, {line}", hostile_line),
)


# What a text chunk holds: smaller than the texts fed to the reader directly (a file has up to three),
# and now and then a long run of spaces that compresses to almost nothing.
_CHUNK_TEXT = st.one_of(
    st.text(max_size=2000),
    _REPEATED.map(lambda line: f"{_VALID_LINE}, {line}"),
    st.integers(0, 1_100_000).map(lambda count: f"{_VALID_LINE}, word{' ' * count}s"),
)


@st.composite
def text_chunk(draw: st.DrawFn) -> bytes:
    text = draw(_CHUNK_TEXT)
    kind = draw(st.sampled_from([b"tEXt", b"zTXt", b"iTXt"]))
    keyword = draw(st.sampled_from([b"parameters", b"parameters", b"Comment", b"", b"p" * 200]))
    encoded = text.encode("latin-1", "replace") if kind != b"iTXt" else text.encode("utf-8", "surrogatepass")
    if kind == b"zTXt":
        body = keyword + b"\0\0" + zlib.compress(encoded)
    elif kind == b"iTXt":
        compressed = draw(st.booleans())
        payload = zlib.compress(encoded) if compressed else encoded
        body = keyword + b"\0" + bytes([compressed, 0]) + b"en\0\0" + payload
    else:
        body = keyword + b"\0" + encoded
    data = chunk(kind, body)
    damage = draw(st.sampled_from(["none", "none", "none", "crc", "length", "stream", "cut"]))
    if damage == "crc":
        data = data[:-1] + bytes([data[-1] ^ 0xFF])
    elif damage == "length":
        data = struct.pack(">I", draw(st.integers(0, 2**32 - 1))) + data[4:]
    elif damage == "stream":
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=64)) + data[cut:]
    elif damage == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    return data


@st.composite
def png_file(draw: st.DrawFn) -> bytes:
    chunks = draw(st.lists(text_chunk(), min_size=1, max_size=3))
    before = draw(st.integers(0, len(chunks)))  # text may come before or after the pixels
    data = tiny_png(*chunks[:before], after=tuple(chunks[before:]))
    if draw(st.integers(0, 9)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


_FOLDER = Path(tempfile.mkdtemp(prefix="sfumato-fuzz-png-"))


def read_png(data: bytes) -> object:
    path = _FOLDER / "hostile.png"
    path.write_bytes(data)
    return read_recipe(path)


with contextlib.suppress(BadInput):
    read_png(b"")  # Pillow's plugins load on first use: not the cost of any one example

TARGETS = [
    FuzzTarget("recipe text", parameters_text, parse_parameters),
    FuzzTarget("recipe PNG", png_file(), read_png),
]
