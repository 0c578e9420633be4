"""Helpers for the document tests: build documents with known pixels and compare whole states."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from sfumato.core.api import Mode, Recipe
from sfumato.desktop.document import BlendMode, Document, Frame, Rect


@dataclass
class LayerState:
    name: str
    x: int
    y: int
    opacity: float
    visible: bool
    locked: bool
    blend: BlendMode
    recipe: Recipe | None
    pixels: np.ndarray


@dataclass
class DocumentState:
    layers: list[LayerState]
    active: int | None
    mask_origin: tuple[int, int]
    mask: np.ndarray
    frame: Frame

    def assert_equal(self, other: DocumentState) -> None:
        assert len(self.layers) == len(other.layers)
        for mine, theirs in zip(self.layers, other.layers, strict=True):
            assert (mine.name, mine.x, mine.y, mine.opacity, mine.visible, mine.locked, mine.blend) == (
                theirs.name,
                theirs.x,
                theirs.y,
                theirs.opacity,
                theirs.visible,
                theirs.locked,
                theirs.blend,
            )
            assert mine.recipe == theirs.recipe
            assert mine.pixels.shape == theirs.pixels.shape
            assert np.array_equal(mine.pixels, theirs.pixels), f"pixels of layer {mine.name!r} differ"
        assert self.active == other.active
        assert self.mask_origin == other.mask_origin
        assert np.array_equal(self.mask, other.mask)
        assert self.frame == other.frame


def state(document: Document) -> DocumentState:
    """A deep copy of everything the artist can see or change (layer ids excepted)."""
    active = document.active_layer
    return DocumentState(
        layers=[
            LayerState(
                layer.name,
                layer.x,
                layer.y,
                layer.opacity,
                layer.visible,
                layer.locked,
                layer.blend,
                layer.recipe,
                layer.pixels.copy(),
            )
            for layer in document.layers
        ],
        active=None if active is None else document.index_of(active),
        mask_origin=(document.mask.x, document.mask.y),
        mask=document.mask.pixels.copy(),
        frame=document.frame,
    )


def random_pixels(height: int, width: int, seed: int, *, opaque: bool = False) -> np.ndarray:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)
    if opaque:
        pixels[..., 3] = 255
    return pixels


def solid(height: int, width: int, rgba: tuple[int, int, int, int]) -> np.ndarray:
    return np.tile(np.asarray(rgba, dtype=np.uint8), (height, width, 1))


def sample_recipe(**changes: Any) -> Recipe:
    values: dict[str, Any] = {
        "prompt": "a lighthouse at dusk, oil on canvas",
        "negative": "blurry",
        "seed": 1234567890123,
        "steps": 28,
        "cfg": 6.5,
        "width": 512,
        "height": 768,
        "model": "tiny-sd",
        "model_hash": "abc123",
        "mode": Mode.IMG2IMG,
        "strength": 0.55,
        "extras": {"clip_skip": "2"},
    }
    values.update(changes)
    return Recipe(**values)


def layered_document(**kwargs: Any) -> Document:
    """Three layers at different offsets (one generated, one multiply) and some mask."""
    document = Document(**kwargs)
    document.add_layer("Paper", pixels=random_pixels(96, 128, 1, opaque=True), x=-32, y=-16)
    document.add_layer("Shade", pixels=random_pixels(64, 64, 2), x=40, y=24, blend=BlendMode.MULTIPLY)
    document.add_generated_layer(random_pixels(64, 80, 3)[..., :3], sample_recipe(), x=8, y=8)
    document.mask_rect(Rect(10, 10, 30, 20))
    document.history.clear()
    return document


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width`×`height` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
