"""Decode and encode images with limits, so a hostile file cannot exhaust memory."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from sfumato.core.api import BadInput

MAX_SIDE = 32768
# 128 Mpx (512 MiB as RGBA) per image: beyond any canvas a desktop can paint on comfortably.
MAX_PIXELS = 1 << 27


def check_size(width: int, height: int, what: str) -> None:
    if width <= 0 or height <= 0:
        raise BadInput(f"{what} has no pixels ({width}×{height}).")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise BadInput(
            f"{what} claims to be {width}×{height} pixels, larger than Sfumato can open "
            f"(at most {MAX_SIDE} pixels a side and {MAX_PIXELS // 1_000_000} megapixels)."
        )


def _decode(source: io.BytesIO | Path, what: str, mode: str, *, upright: bool) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                check_size(image.width, image.height, what)
                image.load()
                upright_image = ImageOps.exif_transpose(image) if upright else image
                converted = upright_image.convert(mode)
    except BadInput:
        raise
    except Image.DecompressionBombError as error:
        raise BadInput(
            f"{what} claims to be far larger than Sfumato can open (a decompression bomb?)."
        ) from error
    except UnidentifiedImageError as error:
        raise BadInput(f"{what} is not an image Sfumato can read.") from error
    except (OSError, ValueError, SyntaxError) as error:
        raise BadInput(f"{what} is damaged and cannot be read ({error}).") from error
    return np.array(converted, dtype=np.uint8)


def decode_rgba(data: bytes, what: str) -> np.ndarray:
    """Image bytes as straight-alpha RGBA uint8 (H, W, 4); `what` names it in error messages."""
    return _decode(io.BytesIO(data), what, "RGBA", upright=False)


def decode_gray(data: bytes, what: str) -> np.ndarray:
    return _decode(io.BytesIO(data), what, "L", upright=False)


def read_image_file(path: Path) -> np.ndarray:
    """Any image file Pillow reads, turned upright per its EXIF orientation, as RGBA uint8."""
    if not path.is_file():
        raise BadInput(f"Cannot import '{path}': the file does not exist.")
    return _decode(path, f"The image '{path.name}'", "RGBA", upright=True)


def encode_png(pixels: np.ndarray, compress_level: int = 6) -> bytes:
    """RGBA (H, W, 4) or grey (H, W) uint8 as PNG bytes, lossless."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()
