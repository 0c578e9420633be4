"""Denoising a latent larger than the model's window as overlapping windows (MultiDiffusion,
Bar-Tal et al. 2023).

At every step the UNet sees each window on its own, and the noise predictions are averaged where
windows overlap, weighted by a feather that falls towards each window's edges, so neighbouring
windows agree and no seam shows. The sampler then takes one step over the whole latent. For the
samplers here (a step is a per-pixel function of the prediction) this equals stepping each
window and averaging, as the paper does, and the sampler's fresh noise stays one field.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

# A latent this much larger than the window (on either side) is denoised in windows; up to it the
# UNet takes it whole. A hires pass starts from a finished picture, which holds the composition at
# 4× the native side; windows each redraw the prompt's subject (measured on the demo model: one
# shape in 8 of 8 frames at 256² whole, none in windows), so they are kept for what memory forces.
TILING_MARGIN = 4.0
# Windows overlap by this fraction of their side, enough for the feather to hide every border.
OVERLAP = 0.25
# The feather never reaches zero, so a pixel only one window covers (an image corner) still counts.
FEATHER_FLOOR = 0.01


def windows_at_once(device: torch.device) -> int:
    """Windows per UNet call: a batch makes a GPU busier, and even a CPU gains from fewer calls."""
    return 8 if device.type == "cuda" else 4


@dataclass(frozen=True)
class Tiling:
    """How a latent is cut: square windows of `window` latent pixels overlapping by `overlap`,
    `at_once` of them per UNet call, blended with feathered weights when `feathered`."""

    window: int
    overlap: int
    at_once: int = 4
    feathered: bool = True

    @classmethod
    def for_window(cls, window: int, at_once: int = 4) -> Tiling:
        return cls(window=window, overlap=int(window * OVERLAP), at_once=at_once)

    def needed(self, height: int, width: int) -> bool:
        return max(height, width) > self.window * TILING_MARGIN


def window_starts(length: int, window: int, overlap: int) -> list[int]:
    """Where windows of `window` start along a side of `length`, evenly spread from edge to edge."""
    if length <= window:
        return [0]
    stride = max(1, window - overlap)
    count = math.ceil((length - window) / stride) + 1
    return [round(index * (length - window) / (count - 1)) for index in range(count)]


def windows(height: int, width: int, tiling: Tiling) -> list[tuple[slice, slice]]:
    """The (rows, columns) of every window over a latent of `height` × `width`."""
    size_y, size_x = min(tiling.window, height), min(tiling.window, width)
    return [
        (slice(top, top + size_y), slice(left, left + size_x))
        for top in window_starts(height, size_y, tiling.overlap)
        for left in window_starts(width, size_x, tiling.overlap)
    ]


def _ramp(length: int, overlap: int) -> torch.Tensor:
    """1 in the middle of a window, falling linearly over `overlap` pixels towards both ends."""
    position = torch.arange(length, dtype=torch.float32) + 0.5
    to_edge = torch.minimum(position, length - position)
    return (to_edge / max(1, overlap)).clamp(FEATHER_FLOOR, 1.0)


def feather(height: int, width: int, tiling: Tiling) -> torch.Tensor:
    """The weight of each pixel of a window: (height, width)."""
    if not tiling.feathered:
        return torch.ones(height, width)
    return _ramp(height, tiling.overlap)[:, None] * _ramp(width, tiling.overlap)[None, :]


def _repeat_batch(value: Any, batch: int, times: int) -> Any:
    """`value` repeated `times` along its batch dimension when it has one of size `batch`."""
    if isinstance(value, torch.Tensor) and value.ndim > 0 and value.shape[0] == batch:
        return value.repeat(times, *([1] * (value.ndim - 1)))
    return value


def tiled_forward(forward: Callable[..., Any], tiling: Tiling) -> Callable[..., Any]:
    """A UNet forward that takes a latent of any size, running `forward` over its windows."""

    def run(sample: torch.Tensor, timestep: Any, *args: Any, **kwargs: Any) -> Any:
        batch, _, height, width = sample.shape
        if not tiling.needed(height, width):
            return forward(sample, timestep, *args, **kwargs)
        total: torch.Tensor | None = None
        weights = torch.zeros(1, 1, height, width, device=sample.device, dtype=torch.float32)
        cut = windows(height, width, tiling)
        for first in range(0, len(cut), tiling.at_once):
            group = cut[first : first + tiling.at_once]
            stacked = torch.cat([sample[:, :, rows, cols] for rows, cols in group])
            repeat_args = [_repeat_batch(arg, batch, len(group)) for arg in args]
            repeat_kwargs = {key: _repeat_batch(value, batch, len(group)) for key, value in kwargs.items()}
            predicted = forward(
                stacked, _repeat_batch(timestep, batch, len(group)), *repeat_args, **repeat_kwargs
            )
            predicted = predicted[0] if isinstance(predicted, tuple) else predicted.sample
            for index, (rows, cols) in enumerate(group):
                part = predicted[index * batch : (index + 1) * batch].float()
                if total is None:
                    total = torch.zeros(batch, part.shape[1], height, width, device=sample.device)
                weight = feather(part.shape[2], part.shape[3], tiling).to(sample.device)
                if tiling.feathered:
                    total[:, :, rows, cols] += part * weight
                    weights[:, :, rows, cols] += weight
                else:  # a naive tiling: the later window simply covers the earlier one
                    total[:, :, rows, cols] = part
                    weights[:, :, rows, cols] = 1.0
        assert total is not None
        blended = (total / weights).to(sample.dtype)
        return (blended,)

    return run


@contextmanager
def tiled_unet(unet: torch.nn.Module, tiling: Tiling) -> Iterator[None]:
    """While inside, `unet` denoises latents larger than the window in overlapping windows."""
    original = unet.forward
    own = "forward" in vars(unet)  # e.g. an offloading hook's wrapper
    unet.forward = tiled_forward(original, tiling)
    try:
        yield
    finally:
        if own:
            unet.forward = original
        else:
            del unet.forward  # back to the class's own forward
