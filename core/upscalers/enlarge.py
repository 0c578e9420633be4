"""Enlarging a picture to an exact size with an upscaler model, or with Lanczos when there is none."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sfumato.core.api import ModelInvalid
from sfumato.core.devices import DeviceChoice
from sfumato.core.imaging import resize
from sfumato.core.upscalers.catalog import find_upscaler_entry
from sfumato.core.upscalers.library import LANCZOS, upscaler_file
from sfumato.core.upscalers.loading import load_upscaler
from sfumato.core.upscalers.tiles import upscale_tiled

MAX_PASSES = 4  # an x2 model reaches 16× in four passes, far beyond any allowed size


def is_lanczos(upscaler: str) -> bool:
    return upscaler.strip().casefold() in ("", LANCZOS)


def upscaler_label(upscaler: str) -> str:
    """The upscaler's name as a recipe records it ("Lanczos", or the model file's name)."""
    if is_lanczos(upscaler):
        return "Lanczos"
    entry = find_upscaler_entry(upscaler)
    return entry.name if entry is not None else upscaler_file(upscaler).stem


def enlarge(
    image: np.ndarray,
    size: tuple[int, int],
    upscaler: str,
    device: DeviceChoice,
    on_tile: Callable[[int, int], None] = lambda done, total: None,
) -> np.ndarray:
    """`image` at `size` (width, height): the model's passes until it is at least that big, then Lanczos
    to the exact size (a 4× model asked for 2× enlarges 4× and scales down, which stays sharper)."""
    if is_lanczos(upscaler):
        return resize(image, size)
    path = upscaler_file(upscaler)
    network = load_upscaler(path)
    network.to(device.device, dtype=device.dtype)
    scale = network.scale
    if scale < 2:
        raise ModelInvalid(f"{path.name} does not enlarge pictures (its scale is {scale}).")
    current = image
    for _ in range(MAX_PASSES):
        if current.shape[1] >= size[0] and current.shape[0] >= size[1]:
            break
        current = upscale_tiled(
            network, current, scale, device=device.device, dtype=device.dtype, on_tile=on_tile
        )
    return resize(current, size)
