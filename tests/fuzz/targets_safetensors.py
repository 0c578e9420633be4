"""Hostile .safetensors headers: structure-aware tables of tensors with wrong types, sizes, offsets,
layouts and metadata, hostile JSON (deep nesting, huge numbers, other encodings), and lying lengths."""

from __future__ import annotations

import json
import struct
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from sfumato.core.models.safetensors_header import DTYPE_SIZES, read_header, read_metadata
from tests.support.fuzzing import FuzzTarget

_FILE = Path(tempfile.mkdtemp(prefix="sfumato-fuzz-")) / "model.safetensors"

count = st.one_of(st.integers(0, 64), st.sampled_from([2**31, 2**63, 2**64 + 1, -1]), st.integers())
odd_value = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.just({}),
)
tensor = st.fixed_dictionaries(
    {
        "dtype": st.one_of(st.sampled_from(sorted(DTYPE_SIZES)), odd_value),
        "shape": st.one_of(st.lists(count, max_size=4), odd_value),
        "data_offsets": st.one_of(
            st.lists(count, min_size=2, max_size=2), st.lists(count, max_size=3), odd_value
        ),
    }
)
metadata = st.one_of(
    st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=4),
    st.dictionaries(st.text(max_size=4), odd_value, max_size=2),
    odd_value,
)


@st.composite
def consistent_file(draw: Any) -> bytes:
    """A file as a real one is laid out (tensors back to back), then perhaps one byte spoiled."""
    header: dict[str, object] = {}
    position = 0
    for name in draw(st.lists(st.text(max_size=12), max_size=6, unique=True)):
        dtype = draw(st.sampled_from(sorted(DTYPE_SIZES)))
        shape = draw(st.lists(st.integers(0, 6), max_size=3))
        size = DTYPE_SIZES[dtype]
        for dim in shape:
            size *= dim
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [position, position + size]}
        position += size
    if draw(st.booleans()):
        header["__metadata__"] = draw(metadata)
    raw = json.dumps(header).encode()
    file = bytearray(struct.pack("<Q", len(raw)) + raw + bytes(position))
    spoil = draw(st.one_of(st.none(), st.integers(0, len(file) - 1)))
    if spoil is not None:
        file[spoil] = draw(st.integers(0, 255))
    cut = draw(st.one_of(st.none(), st.integers(0, len(file))))
    return bytes(file[:cut])


def _nested(depth: int) -> bytes:
    return b'{"a": ' + b"[" * depth + b"]" * depth + b"}"


header_json = st.one_of(
    st.dictionaries(st.text(max_size=12), st.one_of(tensor, odd_value), max_size=5).map(
        lambda header: json.dumps(header).encode()
    ),
    st.integers(1, 200_000).map(_nested),
    st.integers(1, 100_000).map(lambda digits: b'{"a": {"dtype": "F32", "shape": [' + b"9" * digits + b"]}}"),
    st.sampled_from([b"{}", b"[]", b'"x"', b"{", b'{"a": NaN}', b'{"a": 1e999}', b"\xff\xfe{\x00}\x00"]),
    st.binary(max_size=64),
)


@st.composite
def safetensors_file(draw: Any) -> bytes:
    header = draw(header_json)
    padding = draw(st.sampled_from([b"", b" ", b"  \n"]))
    header += padding
    length = draw(
        st.one_of(
            st.just(len(header)),
            st.sampled_from([0, 1, 2**63, 2**64 - 1, 100_000_001]),
            st.integers(0, 2**64 - 1),
        )
    )
    data = draw(st.one_of(st.just(b""), st.binary(max_size=512), st.integers(0, 1 << 20).map(bytes)))
    prefix = draw(st.sampled_from([struct.pack("<Q", length), b"\x80\x02", b"PK\x03\x04", b"", b"\x00" * 3]))
    return prefix + header + data


def read(data: bytes) -> None:
    _FILE.write_bytes(data)
    read_header(_FILE)
    read_metadata(_FILE)


TARGETS = [FuzzTarget("safetensors header", st.one_of(consistent_file(), safetensors_file()), read)]
