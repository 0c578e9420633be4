"""The upscale score: a native demo image enlarged 4× (Lanczos, then redrawn as image to image at
the new size, as `sfumato upscale --factor 4 --refine` does) must keep every attribute of its scene
and be sharper than the Lanczos enlargement alone, measured as gradient energy."""

from __future__ import annotations

import numpy as np

from bench.demo_model.evaluate import judge
from bench.demo_model.harness import (
    SCENE_CHECKS,
    SIZE,
    Case,
    Score,
    Settings,
    Tamper,
    _image,
    txt2img_job,
    untouched,
)
from bench.demo_model.scenes import Scene
from sfumato.core.api import Upscale, request_values
from sfumato.core.engine import Engine
from sfumato.core.imaging import resize

FACTOR = 4
STRENGTH = 0.35
# A check is named for what it asks; a picture that fails it lists the name among its problems.
SHARPER = "sharper than Lanczos"


def gradient_energy(image: np.ndarray) -> float:
    """Mean squared difference between neighbouring pixels: higher where edges are crisp."""
    grey = image.astype(np.float64).mean(axis=2)
    return float((np.diff(grey, axis=0) ** 2).mean() + (np.diff(grey, axis=1) ** 2).mean())


def upscale_job(native: np.ndarray, settings: Settings, index: int, scene: Scene) -> Upscale:
    first = txt2img_job(scene, settings, index)
    size = SIZE * FACTOR
    return Upscale(
        **request_values(first) | {"width": size, "height": size},
        model=settings.model, init=native, strength=STRENGTH,
    )  # fmt: skip


async def upscale_score(
    engine: Engine, settings: Settings, scenes: list[Scene], tamper: Tamper = untouched
) -> Score:
    """Attributes kept and sharper than Lanczos, over the scenes drawn right at native size."""
    cases = []
    for index, scene in enumerate(scenes):
        native = await _image(engine, txt2img_job(scene, settings, index), untouched)
        if judge(native, scene).wrong():
            continue  # only pictures that were right to begin with say anything about the upscale
        job = upscale_job(native, settings, index, scene)
        big = await _image(engine, job, tamper)
        lanczos = resize(native, (job.width, job.height))
        problems = judge(resize(big, (SIZE, SIZE)), scene).wrong()
        if gradient_energy(big) <= gradient_energy(lanczos):
            problems.append(SHARPER)
        cases.append(Case(job.prompt, tuple(problems), images=(native, big)))
    return Score("upscale ×4 refined", tuple(cases), (*SCENE_CHECKS, SHARPER))
