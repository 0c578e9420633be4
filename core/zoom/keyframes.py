"""Planning the keyframes: what each one is made from, and the engine job that makes it.

Keyframe 0 is the starting image, or a text-to-image generation. Then, zooming out, each keyframe
is the previous one shrunk into the middle with its border ring outpainted (the outpaint task's
prefill, seam blending and choice between inpainting and regular checkpoints); zooming in, it is
the middle of the previous one enlarged to full size and redrawn by image-to-image.
"""

from __future__ import annotations

import enum
import hashlib
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PIL import Image

from sfumato.core.api import Img2Img, Job, Outpaint, Recipe, Txt2Img, request_fields, request_values
from sfumato.core.imaging import OUTPAINT_STEP, resize
from sfumato.core.zoom.geometry import crop_box, shrunk_size
from sfumato.core.zoom.settings import SEED_RANGE, Direction, ZoomSettings

_FIRST_RECORDED = frozenset({"prompt", "negative", "sampler", "steps", "cfg", "seed", "width", "height"})
_DEFAULTS = {declared.name: declared.default for declared in request_fields()}


class Kind(enum.StrEnum):
    IMAGE = "image"
    TXT2IMG = "txt2img"
    OUTPAINT = "outpaint"
    IMG2IMG = "img2img"


@dataclass(frozen=True)
class KeyframeSpec:
    """Everything keyframe `index` depends on besides the keyframe before it."""

    index: int
    kind: Kind
    prompt: str
    seed: int
    settings: ZoomSettings
    image_digest: str = ""  # of the starting image, for Kind.IMAGE

    def record(self) -> dict[str, Any]:
        """The spec as plain JSON data; equal records make equal keyframes from equal predecessors."""
        s = self.settings
        record: dict[str, Any] = {
            "index": self.index,
            "kind": self.kind.value,
            "width": s.width,
            "height": s.height,
        }
        if self.kind == Kind.IMAGE:
            return {**record, "image_sha256": self.image_digest}
        # Settings added since the first zoom format are recorded only when set, so that keyframes
        # made before they existed are still reused.
        shared = request_values(s) | {"prompt": self.prompt, "seed": self.seed}
        record.update(model=s.model)
        record.update(
            (name, value)
            for name, value in shared.items()
            if name in _FIRST_RECORDED or value != _DEFAULTS[name]
        )
        if self.kind != Kind.TXT2IMG:
            record.update(direction=s.direction.value, factor=s.factor, strength=s.redraw_strength)
        if self.kind == Kind.OUTPAINT:
            record["mask_blur"] = s.mask_blur
        return record


def plan_keyframes(settings: ZoomSettings, base_seed: int, start: np.ndarray | None) -> list[KeyframeSpec]:
    """The keyframes of a zoom; keyframe k has seed `base_seed + k`. `start`: the fitted start image."""
    step_kind = Kind.OUTPAINT if settings.direction is Direction.OUT else Kind.IMG2IMG
    specs = []
    for index in range(settings.keyframes):
        first_kind = Kind.TXT2IMG if start is None else Kind.IMAGE
        kind = first_kind if index == 0 else step_kind
        digest = image_digest(start) if kind == Kind.IMAGE and start is not None else ""
        seed = (base_seed + index) % SEED_RANGE
        specs.append(KeyframeSpec(index, kind, settings.prompt_for(index), seed, settings, digest))
    return specs


def image_digest(image: np.ndarray) -> str:
    digest = hashlib.sha256(f"{image.shape}".encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()


def fit_image(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """`image` scaled to cover `width`×`height` and cropped to it around its centre."""
    image_height, image_width = image.shape[:2]
    scale = max(width / image_width, height / image_height)
    crop_width, crop_height = width / scale, height / scale
    left, top = (image_width - crop_width) / 2, (image_height - crop_height) / 2
    box = (left, top, left + crop_width, top + crop_height)
    fitted = Image.fromarray(np.ascontiguousarray(image)).resize(
        (width, height), Image.Resampling.LANCZOS, box=box
    )
    return np.asarray(fitted, dtype=np.uint8).copy()


def keyframe_job(spec: KeyframeSpec, previous: np.ndarray | None) -> Job:
    """The engine job that makes keyframe `spec` from the keyframe before it."""
    s = spec.settings
    common: dict[str, Any] = request_values(s) | {"model": s.model, "prompt": spec.prompt, "seed": spec.seed}
    if spec.kind == Kind.TXT2IMG:
        return Txt2Img(**common)
    if previous is None:
        raise ValueError(f"keyframe {spec.index} needs the keyframe before it")
    if spec.kind == Kind.OUTPAINT:
        inner_width, inner_height = shrunk_size(s.width, s.height, s.factor)
        pad_x, pad_y = _outpaint_margin(s.width, inner_width), _outpaint_margin(s.height, inner_height)
        shrunk = resize(previous, (inner_width, inner_height))
        return Outpaint(
            **common, init=shrunk, left=pad_x, right=pad_x, top=pad_y, bottom=pad_y, mask_blur=s.mask_blur,
            strength=s.redraw_strength,
        )  # fmt: skip
    if spec.kind == Kind.IMG2IMG:
        box = crop_box(s.width, s.height, s.factor)
        enlarged = Image.fromarray(previous).resize((s.width, s.height), Image.Resampling.LANCZOS, box=box)
        strength = s.redraw_strength
        assert strength is not None
        return Img2Img(**common, init=np.asarray(enlarged, dtype=np.uint8), strength=strength)
    raise ValueError(f"keyframe {spec.index} of kind {spec.kind} is not generated")


def finished_keyframe(spec: KeyframeSpec, generated: np.ndarray) -> np.ndarray:
    """The keyframe from its job's image: an outpainted canvas may have margins rounded up to
    whole outpaint steps, and is cropped back to the keyframe size around its centre."""
    s = spec.settings
    height, width = generated.shape[:2]
    if (width, height) == (s.width, s.height):
        return generated
    left, top = (width - s.width) // 2, (height - s.height) // 2
    return generated[top : top + s.height, left : left + s.width].copy()


def keyframe_recipe(spec: KeyframeSpec, recipe: Recipe) -> Recipe:
    s = spec.settings
    extras = {
        **recipe.extras,
        "Zoom": f"{s.direction.value} {s.factor:g}x",
        "Zoom keyframe": f"{spec.index + 1}/{s.keyframes}",
    }
    return replace(recipe, extras=extras)


def _outpaint_margin(size: int, inner: int) -> int:
    """The outpaint margin on each side: half the difference, rounded up to a whole outpaint step."""
    half = (size - inner) // 2
    return math.ceil(half / OUTPAINT_STEP) * OUTPAINT_STEP
