"""VAE decoding and encoding of large images in overlapping tiles, blended with feathered weights.

The VAE's memory grows with the picture (its attention layer with the square of the pixel count),
so a 4096² decode in one piece needs far more than a small GPU has. In tiles it needs one tile's
worth plus the picture itself; where tiles overlap their results are averaged with weights that
fall towards each tile's edge, so no seam shows.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from sfumato.core.tasks.tiled_denoise import Tiling, feather, windows

# The overlap between tiles, as a fraction of the tile's side.
TILE_OVERLAP = 0.25
# A latent up to this many tiles on its longer side is decoded in one piece.
WHOLE_UP_TO = 2


def needs_tiles(height: int, width: int, tile: int) -> bool:
    """Whether a latent (or, with `tile` in pixels, an image) of this size is done in tiles."""
    return max(height, width) > tile * WHOLE_UP_TO


def _blend_tiles(
    source: torch.Tensor,
    tile: int,
    units: tuple[int, int],
    channels: int,
    convert: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """`convert` run over overlapping windows of `source` (B, C, H, W), blended into one
    (B, channels, ...) tensor. Windows are laid on the latent grid, `tile` cells a side; a cell is
    `units[0]` pixels of the source and `units[1]` of the result."""
    into, out_of = units
    batch, _, height, width = source.shape
    grid_height, grid_width = height // into, width // into
    tiling = Tiling(window=tile, overlap=int(tile * TILE_OVERLAP))
    total = torch.zeros(batch, channels, grid_height * out_of, grid_width * out_of, dtype=torch.float32)
    weights = torch.zeros(1, 1, grid_height * out_of, grid_width * out_of, dtype=torch.float32)
    out_tiling = Tiling(window=tile * out_of, overlap=tiling.overlap * out_of)
    for rows, cols in windows(grid_height, grid_width, tiling):
        piece = source[:, :, rows.start * into : rows.stop * into, cols.start * into : cols.stop * into]
        part = convert(piece).float().cpu()
        where_rows = slice(rows.start * out_of, rows.stop * out_of)
        where_cols = slice(cols.start * out_of, cols.stop * out_of)
        weight = feather(part.shape[2], part.shape[3], out_tiling)
        total[:, :, where_rows, where_cols] += part * weight
        weights[:, :, where_rows, where_cols] += weight
    total /= weights
    return total


def decode_tiled(
    decode_one: Callable[[torch.Tensor], torch.Tensor], latents: torch.Tensor, tile: int, scale: int
) -> torch.Tensor:
    """Decoded pixels (B, 3, H·scale, W·scale), float32 on the CPU, from `latents` decoded in
    tiles of `tile` latent pixels by `decode_one`."""
    return _blend_tiles(latents, tile, (1, scale), 3, decode_one)


def encode_tiled(
    encode_one: Callable[[torch.Tensor], torch.Tensor],
    pixels: torch.Tensor,
    tile: int,
    scale: int,
    channels: int,
) -> torch.Tensor:
    """Latents (B, channels, H/scale, W/scale), float32 on the CPU, from `pixels` encoded in tiles
    of `tile` latent pixels (`tile`·scale pixels) by `encode_one`."""
    return _blend_tiles(pixels, tile, (scale, 1), channels, encode_one)
