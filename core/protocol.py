"""The engine's wire format: typed messages as a JSON header plus raw array buffers.

Nothing here uses pickle, so a message from another process (or, later, another machine) is data
and never code. Only the types listed in `MESSAGE_TYPES` can be decoded.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import struct
import typing
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from sfumato.core import api
from sfumato.core.engine_settings import EngineInfo

_LENGTH = struct.Struct("<Q")
MAX_MESSAGE_BYTES = 2**34


@dataclass(frozen=True)
class Submit:
    job_id: str
    job: api.Job


@dataclass(frozen=True)
class Cancel:
    job_id: str


@dataclass(frozen=True)
class Shutdown:
    pass


MESSAGE_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Submit, Cancel, Shutdown, EngineInfo,
        api.Txt2Img, api.Img2Img, api.Inpaint, api.Outpaint, api.Morph, api.Upscale, api.Recipe,
        api.Queued, api.Started, api.LoadingModel, api.Step, api.ImageReady, api.Finished, api.Cancelled,
        api.Failed, api.MemoryTierUsed, api.Optimising,
    )
}  # fmt: skip
ENUM_TYPES: dict[str, type[enum.Enum]] = {cls.__name__: cls for cls in (api.Mode, api.ErrorKind)}


class ProtocolError(Exception):
    pass


def _to_json(value: Any, buffers: list[bytes]) -> Any:
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        buffers.append(array.tobytes())
        return {"$array": len(buffers) - 1, "dtype": array.dtype.str, "shape": list(array.shape)}
    if isinstance(value, enum.Enum):
        return {"$enum": type(value).__name__, "value": value.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _to_json(getattr(value, f.name), buffers) for f in dataclasses.fields(value)}
        return {"$type": type(value).__name__, "fields": fields}
    if isinstance(value, list | tuple):
        return [_to_json(item, buffers) for item in value]
    if isinstance(value, dict):
        return {str(key): _to_json(item, buffers) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ProtocolError(f"cannot send a {type(value).__name__}")


def _array(node: dict[str, Any], buffers: list[memoryview]) -> np.ndarray:
    dtype = np.dtype(node["dtype"])
    if dtype.kind not in "biuf":
        raise ProtocolError(f"refusing array dtype {dtype}")
    data = buffers[int(node["$array"])]
    shape = tuple(int(n) for n in node["shape"])
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _from_json(node: Any, buffers: list[memoryview]) -> Any:
    if isinstance(node, list):
        return tuple(_from_json(item, buffers) for item in node)
    if not isinstance(node, dict):
        return node
    if "$array" in node:
        return _array(node, buffers)
    if "$enum" in node:
        return ENUM_TYPES[node["$enum"]](node["value"])
    if "$type" in node:
        cls = MESSAGE_TYPES.get(node["$type"])
        if cls is None:
            raise ProtocolError(f"unknown message type {node['$type']!r}")
        hints = _field_types(cls)
        values = {}
        for name, raw in node["fields"].items():
            value = _from_json(raw, buffers)
            if isinstance(value, tuple) and typing.get_origin(hints.get(name)) is not tuple:
                value = list(value)
            values[name] = value
        return cls(**values)
    return {key: _from_json(item, buffers) for key, item in node.items()}


def encode(message: Any) -> bytes:
    buffers: list[bytes] = []
    header = json.dumps(_to_json(message, buffers)).encode("utf-8")
    parts = [_LENGTH.pack(len(header)), header, _LENGTH.pack(len(buffers))]
    for buffer in buffers:
        parts += [_LENGTH.pack(len(buffer)), buffer]
    body = b"".join(parts)
    return _LENGTH.pack(len(body)) + body


def decode(body: bytes) -> Any:
    view = memoryview(body)
    try:
        (header_length,) = _LENGTH.unpack_from(view, 0)
        position = 8 + header_length
        header = json.loads(bytes(view[8:position]).decode("utf-8"))
        (count,) = _LENGTH.unpack_from(view, position)
        position += 8
        buffers = []
        for _ in range(count):
            (length,) = _LENGTH.unpack_from(view, position)
            position += 8
            buffers.append(view[position : position + length])
            position += length
        return _from_json(header, buffers)
    except (struct.error, ValueError, KeyError, TypeError, IndexError) as error:
        raise ProtocolError(f"malformed message: {error}") from error


def _read_exactly(stream: BinaryIO, count: int) -> bytes | None:
    chunks = []
    while count:
        chunk = stream.read(count)
        if not chunk:
            return None
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def read_message(stream: BinaryIO) -> Any | None:
    """The next message, or None at end of stream."""
    prefix = _read_exactly(stream, 8)
    if prefix is None:
        return None
    (length,) = _LENGTH.unpack(prefix)
    if length > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {length} bytes is too large")
    body = _read_exactly(stream, length)
    if body is None:
        return None
    return decode(body)


def write_message(stream: BinaryIO, message: Any) -> None:
    stream.write(encode(message))
    stream.flush()
