"""PNG files built chunk by chunk, to make damaged or lying ones the way a hostile file would be."""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def header(width: int, height: int) -> bytes:
    """The signature and an IHDR chunk for an 8-bit RGB picture of `width` x `height`."""
    return SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))


def png_claiming(width: int, height: int, *extra_chunks: bytes) -> bytes:
    """A tiny PNG file whose header claims `width` x `height` pixels (the data is not there)."""
    pixels = chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return header(width, height) + b"".join(extra_chunks) + pixels + chunk(b"IEND", b"")


def tiny_png(*extra_chunks: bytes, after: tuple[bytes, ...] = ()) -> bytes:
    """A real, decodable 1 x 1 PNG file with `extra_chunks` between its header and its pixels, and
    the chunks `after` between its pixels and its end."""
    pixels = chunk(b"IDAT", zlib.compress(b"\x00" * 4))  # the row's filter byte, then R, G, B
    return header(1, 1) + b"".join(extra_chunks) + pixels + b"".join(after) + chunk(b"IEND", b"")
