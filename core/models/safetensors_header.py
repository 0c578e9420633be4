"""Read and check the header of a `.safetensors` file without trusting any of it.

A safetensors file is an 8-byte little-endian header length, a UTF-8 JSON header that names each
tensor with its dtype, shape and byte range, and then the raw tensor data. Everything in the header
is checked against the real file size before anyone reads a tensor, so a truncated download or a
damaged file gives a clear message instead of a crash deep inside a loader.

A file that is really a pickle (old `.ckpt` checkpoints, `torch.save` zip archives) is recognised by
its first bytes and refused: unpickling a model file can run arbitrary code.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sfumato.core.api import ModelInvalid, ModelNotFound
from sfumato.core.limits import MAX_QUOTED, quoted

MAX_HEADER_BYTES = 100_000_000
METADATA_KEY = "__metadata__"

DTYPE_SIZES: dict[str, int] = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E4M3": 1,
    "F8_E4M3FNUZ": 1,
    "F8_E5M2": 1,
    "F8_E5M2FNUZ": 1,
    "F8_E8M0": 1,
    "U16": 2,
    "I16": 2,
    "F16": 2,
    "BF16": 2,
    "U32": 4,
    "I32": 4,
    "F32": 4,
    "U64": 8,
    "I64": 8,
    "F64": 8,
    "C64": 8,
}

_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTO = 0x80


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as the header describes it; offsets count from the start of the data area."""

    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int

    @property
    def nbytes(self) -> int:
        return self.end - self.start


class _Corrupt(Exception):
    """A detail about what is wrong, turned into a user message by `_open_checked`."""


def read_header(path: Path) -> dict[str, TensorInfo]:
    """Return every tensor's dtype, shape and byte range, after checking the header against the file."""
    tensors, _ = _read(path)
    return tensors


def read_metadata(path: Path) -> dict[str, str]:
    """Return the `__metadata__` strings (empty if the file has none), checked like `read_header`."""
    _, metadata = _read(path)
    return metadata


def corrupt_message(name: str, detail: str) -> str:
    detail = quoted(detail, 4 * MAX_QUOTED)
    return f"{name} is corrupt or incomplete ({detail}). Download or export it again."


def legacy_pickle_message(name: str) -> str:
    return (
        f"{name} is an old-style pickle checkpoint (the .ckpt format), not a safetensors file. "
        "Pickle files can run hidden code when opened, so Sfumato never opens them. "
        "Download the .safetensors version of this model, or convert the file to .safetensors "
        "with a tool you trust."
    )


def is_legacy_pickle(prefix: bytes) -> bool:
    """True when the first bytes are those of a zip archive (torch.save) or a pickle stream."""
    if prefix.startswith(_ZIP_MAGIC):
        return True
    return len(prefix) >= 2 and prefix[0] == _PICKLE_PROTO and 2 <= prefix[1] <= 5


def _read(path: Path) -> tuple[dict[str, TensorInfo], dict[str, str]]:
    try:
        with open(path, "rb") as file:
            return _parse(file, os.fstat(file.fileno()).st_size, path.name)
    except FileNotFoundError:
        raise ModelNotFound(f"{path.name} was not found at {path}.") from None
    except IsADirectoryError:
        raise ModelInvalid(f"{path} is a folder, not a model file.") from None
    except PermissionError:
        raise ModelInvalid(f"Sfumato is not allowed to read {path}. Check the file's permissions.") from None
    except _Corrupt as error:
        raise ModelInvalid(corrupt_message(path.name, str(error))) from None
    except OSError as error:
        raise ModelInvalid(f"{path.name} could not be read ({error.strerror or error}).") from None


def _parse(file: BinaryIO, size: int, name: str) -> tuple[dict[str, TensorInfo], dict[str, str]]:
    if size == 0:
        raise _Corrupt("the file is empty")
    prefix = file.read(9)
    looks_like_safetensors = len(prefix) == 9 and prefix[8:9] == b"{"
    if not looks_like_safetensors and is_legacy_pickle(prefix):
        raise ModelInvalid(legacy_pickle_message(name))
    if size < 8:
        raise _Corrupt(f"the file is only {size} bytes long")

    (header_len,) = struct.unpack("<Q", prefix[:8])
    if header_len > MAX_HEADER_BYTES:
        raise _Corrupt(f"its header claims to be {header_len:,} bytes long, far more than any model needs")
    if header_len > size - 8:
        raise _Corrupt(
            f"its header claims to be {header_len:,} bytes long but the file has only {size:,} bytes"
        )
    if header_len < 2:
        raise _Corrupt("its header is empty")

    file.seek(8)
    raw = file.read(header_len)
    if len(raw) != header_len:
        raise _Corrupt("the file ended while reading its header")
    header = _decode(raw)
    data_size = size - 8 - header_len

    metadata = _check_metadata(header.pop(METADATA_KEY, {}))
    tensors = {tensor: _check_tensor(tensor, entry, data_size) for tensor, entry in header.items()}
    _check_layout(tensors, data_size)
    return tensors, metadata


def _decode(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Corrupt("its header is not readable text") from None
    try:
        header = json.loads(text)
    except (ValueError, RecursionError):  # also numbers too long to convert, and deep nesting
        raise _Corrupt("its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise _Corrupt("its header is not a table of tensors")
    return header


def _check_metadata(metadata: object) -> dict[str, str]:
    if not isinstance(metadata, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in metadata.items()
    ):
        raise _Corrupt("its metadata is not a table of text values")
    return metadata


def _is_count(value: object) -> bool:
    return type(value) is int and value >= 0


def _check_tensor(name: str, entry: object, data_size: int) -> TensorInfo:
    shown = quoted(name)  # names and values come from the file: quote no more than a line's worth
    if not isinstance(entry, dict):
        raise _Corrupt(f"the entry for tensor '{shown}' is not a table")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in DTYPE_SIZES:
        raise _Corrupt(f"tensor '{shown}' has an unknown data type {quoted(repr(dtype))}")
    if not isinstance(shape, list) or not all(_is_count(dim) for dim in shape):
        raise _Corrupt(f"tensor '{shown}' has an invalid shape {quoted(repr(shape))}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)):
        raise _Corrupt(f"tensor '{shown}' has invalid data offsets {quoted(repr(offsets))}")
    start, end = offsets
    if start > end:
        raise _Corrupt(f"tensor '{shown}' has invalid data offsets {quoted(repr(offsets))}")
    if end > data_size:
        raise _Corrupt(f"the file ends before the data of tensor '{shown}'")
    expected = _byte_count(shape, DTYPE_SIZES[dtype], data_size)
    if end - start != expected:
        wanted = "more bytes than the whole file holds" if expected is None else f"{expected:,} bytes"
        raise _Corrupt(f"tensor '{shown}' should take {wanted} but its data takes {end - start:,}")
    return TensorInfo(dtype=dtype, shape=tuple(shape), start=start, end=end)


def _byte_count(shape: list[int], item_size: int, limit: int) -> int | None:
    """The bytes a tensor of `shape` takes, or None when that is more than `limit` (a shape of
    huge numbers must not cost a huge multiplication)."""
    if 0 in shape:
        return 0
    total = item_size
    for dim in shape:
        total *= dim
        if total > limit:
            return None
    return total


def _check_layout(tensors: dict[str, TensorInfo], data_size: int) -> None:
    """Tensor data must follow on without gaps or overlaps and fill the data area exactly."""
    position = 0
    for name, info in sorted(tensors.items(), key=lambda item: (item[1].start, item[1].end)):
        if info.start != position:
            problem = "overlaps another tensor" if info.start < position else "leaves a gap before it"
            raise _Corrupt(f"the data of tensor '{name}' {problem}")
        position = info.end
    if position != data_size:
        raise _Corrupt(f"{data_size - position:,} bytes at the end of the file belong to no tensor")
