"""Enlarging a picture with an upscaler network tile by tile, so a big picture fits in memory.

Tiles overlap, and each one's contribution fades out across the overlap (a linear feather), so the
seams between tiles blend instead of showing as lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch import nn

TILE = 256  # input pixels per tile side
OVERLAP = 16  # input pixels shared by neighbouring tiles
_LEAST = 1e-4  # the weight of a tile's outermost pixels: above 0, so every pixel has some weight


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Where tiles of `tile` pixels start along a side of `length`, overlapping by at least `overlap`."""
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step))
    return [*starts, length - tile]


def _feather(length: int, fade: int, rise: bool, fall: bool) -> np.ndarray:
    weights = np.ones(length, np.float32)
    fade = min(fade, length)
    # The outer quarter of the overlap, where a tile's network saw past the tile's edge, barely counts.
    ramp = np.clip((np.arange(fade, dtype=np.float32) + 0.5 - fade / 4) / (fade * 3 / 4), _LEAST, 1)
    if rise:
        weights[:fade] = np.minimum(weights[:fade], ramp)
    if fall:
        weights[length - fade :] = np.minimum(weights[length - fade :], ramp[::-1])
    return weights


def _tiles(height: int, width: int, tile: int, overlap: int) -> Iterator[tuple[int, int, int, int]]:
    for top in tile_starts(height, tile, overlap):
        for left in tile_starts(width, tile, overlap):
            yield top, left, min(top + tile, height), min(left + tile, width)


@torch.inference_mode()
def upscale_tiled(
    network: nn.Module,
    image: np.ndarray,
    scale: int,
    *,
    device: torch.device,
    dtype: torch.dtype = torch.float32,
    tile: int = TILE,
    overlap: int = OVERLAP,
    on_tile: Callable[[int, int], None] = lambda done, total: None,
) -> np.ndarray:
    """`image` (H, W, 3 uint8) enlarged `scale` times by `network`, one overlapping tile at a time.
    `on_tile(done, total)` follows the progress (and may raise to stop)."""
    height, width = image.shape[:2]
    out = np.zeros((height * scale, width * scale, 3), np.float32)
    weight = np.zeros((height * scale, width * scale, 1), np.float32)
    tiles = list(_tiles(height, width, tile, overlap))
    for done, (top, left, bottom, right) in enumerate(tiles, start=1):
        pixels = torch.from_numpy(np.ascontiguousarray(image[top:bottom, left:right]))
        batch = pixels.permute(2, 0, 1)[None].to(device=device, dtype=dtype) / 255.0
        result = network(batch)[0].permute(1, 2, 0).float().clamp(0, 1).cpu().numpy()
        rows = _feather(result.shape[0], overlap * scale, top > 0, bottom < height)
        columns = _feather(result.shape[1], overlap * scale, left > 0, right < width)
        mask = (rows[:, None] * columns[None, :])[..., None]
        out[top * scale : bottom * scale, left * scale : right * scale] += result * mask
        weight[top * scale : bottom * scale, left * scale : right * scale] += mask
        on_tile(done, len(tiles))
    return np.clip(out / weight * 255.0 + 0.5, 0, 255).astype(np.uint8)
