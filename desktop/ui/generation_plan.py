"""Turn what lies under the frame, plus the generation panel's settings, into one engine job.

The mode follows the frame's content unless the artist picks one: nothing under the frame →
txt2img; a mask → inpaint; a drawing (mostly transparent strokes) inside the frame on an otherwise
empty canvas → img2img (sketch to image); partly empty otherwise → outpaint (the empty border is
generated around the painted part); fully covered → img2img.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sfumato.core.api import (
    OUTPAINT_STRENGTH,
    BadInput,
    Img2Img,
    Inpaint,
    Job,
    Mode,
    Outpaint,
    Recipe,
    Request,
    Txt2Img,
    request_values,
)
from sfumato.desktop.document import Content, Document, FrameCoverage, Rect
from sfumato.desktop.document.compositing import composite, composite_alpha
from sfumato.desktop.document.frame import SNAP
from sfumato.desktop.document.layers import Layer

# Transparent pixels inside the picture given to the engine read as this mid grey.
BACKDROP = 128
# A drawing covers less than this share of the box its strokes span (a picture covers all of it).
SKETCH_COVERAGE = 0.5


@dataclass(frozen=True, kw_only=True)
class GenerationSettings(Request):
    """The Generate panel's settings: the shared generation settings (their width and height are
    replaced by the frame's when planned) and how the picture under the frame is used."""

    model: str
    strength: float = 0.75
    mask_blur: int = 4
    batch: int = 1
    only_masked: bool = False
    mode: Mode | None = None  # None: decided by the frame's content


@dataclass(frozen=True)
class Plan:
    job: Job
    mode: Mode
    rect: Rect  # where the result goes on the canvas


def automatic_mode(document: Document) -> Mode:
    coverage: FrameCoverage = document.frame_coverage()
    if coverage.content is Content.EMPTY:
        return Mode.TXT2IMG
    if coverage.masked:
        return Mode.INPAINT
    if coverage.content is Content.PARTIAL and not _is_sketch(document):
        return Mode.OUTPAINT
    return Mode.IMG2IMG


def _is_sketch(document: Document) -> bool:
    """A drawing inside the frame on an otherwise empty canvas: lines and shapes that leave most of
    the box they span transparent. An imported picture smaller than the frame (opaque across its box)
    is not one: the artist wants it extended (outpaint)."""
    frame = document.frame.rect
    for layer in document.layers:
        visible = layer.visible and layer.opacity > 0
        if visible and not frame.contains(layer.rect) and not frame.contains(layer.content_rect()):
            return False
    painted = composite_alpha(document.layers, frame) > 0
    rows, columns = np.flatnonzero(painted.any(axis=1)), np.flatnonzero(painted.any(axis=0))
    box = painted[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    return float(box.mean()) < SKETCH_COVERAGE


def mode_uses(mode: Mode, strength: float, mask_blur: int) -> str:
    """In plain words, the strength and mask blur a mode will use, given the panel's values."""
    if mode is Mode.TXT2IMG:
        return "Uses neither strength nor mask blur."
    if mode is Mode.IMG2IMG:
        return f"Uses strength {strength:.2f}; no mask blur."
    if mode is Mode.INPAINT:
        return f"Uses strength {strength:.2f} and mask blur {mask_blur} px."
    return (
        f"Uses strength {OUTPAINT_STRENGTH:.2f} (1.00 with an inpainting model), not the panel's, "
        f"and mask blur {max(mask_blur, SNAP)} px (at least {SNAP})."
    )


def recipe_values(recipe: Recipe) -> dict[str, Any]:
    """The panel settings a recipe gives, by name: the shared ones, and strength and mask blur when
    its mode had them."""
    made_with = {name: getattr(recipe, name) for name in ("strength", "mask_blur")}
    return request_values(recipe) | {name: value for name, value in made_with.items() if value is not None}


def settings_from_recipe(recipe: Recipe, model: str, seed: int = -1) -> GenerationSettings:
    """The panel settings that make `recipe` again (with `seed`; -1 picks a new one)."""
    return GenerationSettings(**recipe_values(recipe) | {"seed": seed}, model=model, mode=recipe.mode)


def plan_generation(
    document: Document,
    settings: GenerationSettings,
    *,
    rect: Rect | None = None,
    without: Layer | None = None,
) -> Plan:
    """The job for the current frame (or `rect`, seeing the document without the layer `without`);
    BadInput says in plain words when it cannot be made."""
    if not settings.model:
        raise BadInput("Choose a model first: use the model picker in the Generate panel.")
    rect = rect or document.frame.rect
    mode = settings.mode or automatic_mode(document)
    common: dict[str, Any] = request_values(settings) | dict(
        width=rect.width, height=rect.height, model=settings.model, batch=settings.batch
    )
    pixels = composite([layer for layer in document.layers if layer is not without], rect)
    if mode is Mode.TXT2IMG:
        return Plan(Txt2Img(**common), mode, rect)
    if not pixels[..., 3].any():
        raise BadInput(
            f"There is nothing under the frame to work from, so {mode.value} cannot run. Move the frame "
            "over your picture, or choose txt2img."
        )
    if mode is Mode.IMG2IMG:
        job: Job = Img2Img(**common, init=_flattened(pixels), strength=settings.strength)
        return Plan(job, mode, rect)
    if mode is Mode.INPAINT:
        return Plan(_inpaint(document, pixels, rect, settings, common), mode, rect)
    return Plan(_outpaint(pixels, settings, common), mode, rect)


def _inpaint(
    document: Document, pixels: np.ndarray, rect: Rect, settings: GenerationSettings, common: dict
) -> Job:
    mask = document.mask.read(rect)
    # Empty parts of the frame have nothing to keep, so they are repainted too.
    mask = np.where(pixels[..., 3] < 255, np.uint8(255), mask).astype(np.uint8)
    if not mask.any():
        raise BadInput(
            "Inpainting repaints the masked area, but nothing under the frame is masked. Paint a mask "
            "with the mask brush, or choose another mode."
        )
    return Inpaint(
        **common,
        init=_flattened(pixels),
        mask=mask,
        strength=settings.strength,
        mask_blur=settings.mask_blur,
        only_masked=settings.only_masked,
    )


def _outpaint(pixels: np.ndarray, settings: GenerationSettings, common: dict[str, Any]) -> Job:
    """Keep the largest 8-pixel-aligned box inside the painted part and generate the border around it."""
    height, width = pixels.shape[:2]
    painted = pixels[..., 3] > 0
    rows, columns = np.flatnonzero(painted.any(axis=1)), np.flatnonzero(painted.any(axis=0))
    top, bottom = _round_up(rows[0]), _round_down(rows[-1] + 1)
    left, right = _round_up(columns[0]), _round_down(columns[-1] + 1)
    if right <= left or bottom <= top or (left, top, right, bottom) == (0, 0, width, height):
        # Painted pixels are scattered (or fill the frame's box with holes): repaint the holes instead.
        mask = np.where(pixels[..., 3] < 255, np.uint8(255), np.uint8(0))
        return Inpaint(
            **common, init=_flattened(pixels), mask=mask, strength=1.0, mask_blur=settings.mask_blur
        )
    return Outpaint(
        **common,
        init=_flattened(pixels[top:bottom, left:right]),
        left=left,
        top=top,
        right=width - right,
        bottom=height - bottom,
        mask_blur=max(settings.mask_blur, SNAP),
    )


def _round_up(value: int) -> int:
    return -(-int(value) // SNAP) * SNAP


def _round_down(value: int) -> int:
    return int(value) // SNAP * SNAP


def _flattened(pixels: np.ndarray) -> np.ndarray:
    """RGBA over the mid-grey backdrop, as the RGB picture the engine takes."""
    alpha = pixels[..., 3:4].astype(np.float32) / 255.0
    rgb = pixels[..., :3].astype(np.float32) * alpha + BACKDROP * (1.0 - alpha)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
