"""What a zoom render is made of, from the Zoom panel's fields and the Generate panel's settings: the
zoom settings, the image to start from and the folder to render into. No widgets here."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sfumato.core.api import BadInput, request_values
from sfumato.core.paths import data_dir
from sfumato.core.zoom.cues import parse_cues
from sfumato.core.zoom.settings import Direction, ZoomSettings
from sfumato.desktop.ui.generation_plan import GenerationSettings

FROM_FRAME = "frame"
FROM_PROMPT = "prompt"


@dataclass(frozen=True)
class ZoomForm:
    """The Zoom panel's own fields, as entered."""

    prompt: str
    prompt_changes: str
    direction: Direction
    keyframes: int
    factor: float
    seconds_per_keyframe: float
    width: int
    height: int


def zoom_settings(form: ZoomForm, generation: GenerationSettings) -> ZoomSettings:
    """The zoom's settings: its own fields, and the model, prompt (when its own is empty) and sampling
    of the Generate panel."""
    if not generation.model:
        raise BadInput("Choose a model in the Generate panel first.")
    own = {"prompt": form.prompt.strip() or generation.prompt, "width": form.width // 8 * 8,
           "height": form.height // 8 * 8}  # fmt: skip
    return ZoomSettings(
        **request_values(generation) | own, model=generation.model, cues=parse_cues(form.prompt_changes),
        direction=form.direction, keyframes=form.keyframes, factor=form.factor,
        seconds_per_keyframe=form.seconds_per_keyframe,
    )  # fmt: skip


def start_image(frame: np.ndarray | None) -> np.ndarray | None:
    """The frame's contents as the zoom's first keyframe: RGB, transparent parts on white."""
    if frame is None or frame.shape[-1] == 3:
        return frame
    return flatten_rgb(frame)


def flatten_rgb(rgba: np.ndarray) -> np.ndarray:
    """Straight-alpha RGBA on white, as RGB uint8."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def new_render_folder() -> Path:
    """A fresh folder name under the data folder's `zoom` folder (which is made if missing)."""
    renders = data_dir() / "zoom"
    try:
        renders.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BadInput(f'The folder for zoom renders "{renders}" cannot be made: {error.strerror}.') from None
    return renders / time.strftime("%Y%m%d-%H%M%S")
