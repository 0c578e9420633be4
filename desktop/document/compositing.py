"""Composite the visible layers of any canvas rectangle.

Works in planar float32 with premultiplied colour and follows the W3C Compositing and Blending Level 1
general formula for separable blend modes over source-over:

    co = as·(1-ab)·Cs + as·ab·B(Cb, Cs) + (1-as)·ab·Cb      αo = as + ab·(1-as)

(Cs, Cb straight colours, co premultiplied). Only the requested rectangle is touched, in bands
of rows so the temporaries stay small and cache-friendly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from sfumato.desktop.document.geometry import Rect
from sfumato.desktop.document.layers import BlendMode, Layer

_BAND_PIXELS = 1 << 17

BlendFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _multiply(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return cb * cs


def _screen(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return cb + cs - cb * cs


def _hard_light(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return np.where(cs <= 0.5, _multiply(cb, 2.0 * cs), _screen(cb, 2.0 * cs - 1.0))


def _overlay(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return _hard_light(cs, cb)


def _darken(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return np.minimum(cb, cs)


def _lighten(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return np.maximum(cb, cs)


def _color_dodge(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        dodged = np.minimum(1.0, cb / (1.0 - cs))
    return np.where(cb == 0.0, 0.0, np.where(cs >= 1.0, 1.0, dodged)).astype(np.float32)


def _color_burn(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        burned = 1.0 - np.minimum(1.0, (1.0 - cb) / cs)
    return np.where(cb >= 1.0, 1.0, np.where(cs == 0.0, 0.0, burned)).astype(np.float32)


def _soft_light(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    d = np.where(cb <= 0.25, ((16.0 * cb - 12.0) * cb + 4.0) * cb, np.sqrt(cb))
    darker = cb - (1.0 - 2.0 * cs) * cb * (1.0 - cb)
    lighter = cb + (2.0 * cs - 1.0) * (d - cb)
    return np.where(cs <= 0.5, darker, lighter)


def _difference(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return np.abs(cb - cs)


def _exclusion(cb: np.ndarray, cs: np.ndarray) -> np.ndarray:
    return cb + cs - 2.0 * cb * cs


BLEND_FUNCTIONS: dict[BlendMode, BlendFunction] = {
    BlendMode.MULTIPLY: _multiply,
    BlendMode.SCREEN: _screen,
    BlendMode.OVERLAY: _overlay,
    BlendMode.DARKEN: _darken,
    BlendMode.LIGHTEN: _lighten,
    BlendMode.COLOR_DODGE: _color_dodge,
    BlendMode.COLOR_BURN: _color_burn,
    BlendMode.HARD_LIGHT: _hard_light,
    BlendMode.SOFT_LIGHT: _soft_light,
    BlendMode.DIFFERENCE: _difference,
    BlendMode.EXCLUSION: _exclusion,
}


def _contributing(layers: Sequence[Layer], rect: Rect) -> list[Layer]:
    return [
        layer for layer in layers if layer.visible and layer.opacity > 0.0 and layer.rect.intersects(rect)
    ]


def _bands(rect: Rect) -> list[Rect]:
    rows = max(1, _BAND_PIXELS // max(1, rect.width))
    return [
        Rect(rect.x, top, rect.width, min(rows, rect.bottom - top))
        for top in range(rect.y, rect.bottom, rows)
    ]


def _planar(src: np.ndarray, scale: float) -> np.ndarray:
    """(H, W, C) uint8 as (C, H, W) float32 times `scale`: channel planes make every later step a
    contiguous array operation, several times faster than working on interleaved pixels."""
    out = np.empty((src.shape[2], *src.shape[:2]), dtype=np.float32)
    for channel in range(src.shape[2]):
        out[channel] = src[..., channel]
    out *= np.float32(scale)
    return out


def _premultiplied(src: np.ndarray, opacity: float) -> np.ndarray:
    """Straight-alpha uint8 RGBA as premultiplied planar float32, with the layer opacity applied."""
    out = _planar(src, 1.0 / 255.0)
    out[3] *= np.float32(opacity)
    out[:3] *= out[3]
    return out


def _blend_into(acc: np.ndarray, src: np.ndarray, opacity: float, mode: BlendMode) -> None:
    """Blend straight-alpha uint8 `src` into the premultiplied planar accumulator, in place."""
    source = _premultiplied(src, opacity)
    alpha_s = source[3]
    if mode is BlendMode.NORMAL:
        acc *= 1.0 - alpha_s
        acc += source
        return
    alpha_b = acc[3].copy()
    cb = np.zeros_like(acc[:3])
    np.divide(acc[:3], alpha_b, out=cb, where=alpha_b > 0.0)
    cs = _planar(src[..., :3], 1.0 / 255.0)
    # co = (1-as)·Cb' + as·((1-ab)·Cs + ab·B): the Cs' term of source-over already holds as·(1-ab)·Cs.
    blended = BLEND_FUNCTIONS[mode](cb, cs)
    blended -= cs
    blended *= alpha_b
    blended *= alpha_s
    acc *= 1.0 - alpha_s
    acc += source
    acc[:3] += blended


def _store_straight(acc: np.ndarray, out: np.ndarray) -> None:
    """Write the planar premultiplied accumulator into `out` as straight-alpha uint8, rounded."""
    alpha = acc[3]
    scale = np.zeros_like(alpha)
    np.divide(np.float32(255.0), alpha, out=scale, where=alpha > 0.0)
    acc[:3] *= scale
    acc[3] *= np.float32(255.0)
    acc += np.float32(0.5)
    np.clip(acc, 0.0, 255.0, out=acc)
    for channel in range(4):
        out[..., channel] = acc[channel]


def composite(layers: Sequence[Layer], rect: Rect) -> np.ndarray:
    """The visible layers (bottom to top) of `rect` as straight-alpha RGBA uint8 (H, W, 4)."""
    out = np.zeros((rect.height, rect.width, 4), dtype=np.uint8)
    active = _contributing(layers, rect)
    if not active or rect.is_empty():
        return out
    for band in _bands(rect):
        band_layers = [layer for layer in active if layer.rect.intersects(band)]
        if not band_layers:
            continue
        bottom = band_layers[0]
        if len(band_layers) == 1 and bottom.opacity == 1.0:
            # A lone opaque-strength layer is its own composite: copy it, skipping the float round trip.
            target = out[bottom.rect.intersect(band).slices(rect.x, rect.y)]
            target[...] = bottom.view(bottom.rect.intersect(band))
            target[target[..., 3] == 0] = 0
            continue
        if bottom.rect.contains(band):
            # Over a transparent backdrop every blend mode reduces to the premultiplied source.
            acc = _premultiplied(bottom.view(band), bottom.opacity)
            band_layers = band_layers[1:]
        else:
            acc = np.zeros((4, band.height, band.width), dtype=np.float32)
        for layer in band_layers:
            part = band.intersect(layer.rect)
            rows, cols = part.slices(band.x, band.y)
            _blend_into(acc[:, rows, cols], layer.view(part), layer.opacity, layer.blend)
        _store_straight(acc, out[band.slices(rect.x, rect.y)])
    return out


def composite_alpha(layers: Sequence[Layer], rect: Rect) -> np.ndarray:
    """Only the alpha of `composite` (H, W) uint8: every blend mode composites alpha the same way."""
    out = np.zeros((rect.height, rect.width), dtype=np.uint8)
    active = _contributing(layers, rect)
    if not active or rect.is_empty():
        return out
    for band in _bands(rect):
        acc = np.zeros((band.height, band.width), dtype=np.float32)
        for layer in active:
            part = band.intersect(layer.rect)
            if part.is_empty():
                continue
            alpha_s = layer.view(part)[..., 3].astype(np.float32) * np.float32(layer.opacity / 255.0)
            region = acc[part.slices(band.x, band.y)]
            region *= 1.0 - alpha_s
            region += alpha_s
        out[band.slices(rect.x, rect.y)] = np.clip(np.rint(acc * 255.0), 0, 255)
    return out
