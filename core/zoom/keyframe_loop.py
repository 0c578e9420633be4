"""Making a zoom's keyframes one after another on the engine, saving each as soon as it is done.

Cancel by cancelling the asyncio task: the running job is cancelled in the engine too, and the
keyframes finished so far stay in the render folder for the next run to continue from.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import numpy as np

from sfumato.core.api import Cancelled, Failed, Finished, Job, Recipe, SfumatoError, Step
from sfumato.core.job_runner import JobRunner
from sfumato.core.zoom.keyframes import (
    KeyframeSpec,
    Kind,
    finished_keyframe,
    fit_image,
    keyframe_job,
    keyframe_recipe,
    plan_keyframes,
)
from sfumato.core.zoom.manifest import Manifest, RenderFolder, keyframe_name
from sfumato.core.zoom.progress import (
    KeyframeFinished,
    KeyframeReused,
    KeyframeStep,
    OnProgress,
    ignore_progress,
)
from sfumato.core.zoom.settings import SEED_RANGE, ZoomSettings, check_settings


async def render_keyframes(
    engine: JobRunner,
    settings: ZoomSettings,
    folder_path: Path,
    *,
    start: np.ndarray | None = None,
    fresh: bool = False,
    on_progress: OnProgress = ignore_progress,
) -> list[np.ndarray]:
    """All keyframes of the zoom, saved in `folder_path` (made if missing) with `zoom.json`, reusing
    those an earlier run left there.

    `start`: the image to begin from (fitted to the keyframe size) instead of generating one.
    `fresh`: ignore what is in the folder. With seed -1, an earlier run's seed is kept, so running
    the same settings again continues that render.
    """
    check_settings(settings)
    folder = RenderFolder(folder_path)
    folder.prepare()
    fitted = None if start is None else fit_image(start, settings.width, settings.height)
    stored = folder.load()
    if stored is not None and fresh:
        folder.remove_stale(stored, keep=0)
        stored = None
    seed = settings.seed
    if seed < 0:
        seed = stored.seed if stored is not None else secrets.randbelow(SEED_RANGE)
    specs = plan_keyframes(settings, seed, fitted)
    records = [spec.record() for spec in specs]

    manifest = stored or Manifest(seed)
    keyframes = folder.reusable(manifest, records)
    manifest.seed = seed
    folder.remove_stale(manifest, keep=len(keyframes))
    for index in range(len(keyframes)):
        on_progress(KeyframeReused(index, len(specs), folder.path / keyframe_name(index)))

    for spec, record in zip(specs[len(keyframes) :], records[len(keyframes) :], strict=True):
        if spec.kind == Kind.IMAGE:
            assert fitted is not None
            image, recipe = fitted, None
        else:
            previous = keyframes[-1] if keyframes else None
            generated, made = await _generate(engine, keyframe_job(spec, previous), spec, on_progress)
            image, recipe = finished_keyframe(spec, generated), keyframe_recipe(spec, made)
        path = folder.add_keyframe(manifest, image, recipe, record)
        keyframes.append(image)
        on_progress(KeyframeFinished(spec.index, len(specs), path))
    return keyframes


async def _generate(
    engine: JobRunner, job: Job, spec: KeyframeSpec, on_progress: OnProgress
) -> tuple[np.ndarray, Recipe]:
    count = spec.settings.keyframes
    job_id = engine.submit(job, listen=True)
    try:
        async for event in engine.events(job_id):
            match event:
                case Step(step=step, total=total):
                    on_progress(KeyframeStep(spec.index, count, step, total))
                case Finished(images=images, recipes=recipes):
                    return images[0], recipes[0]
                case Failed(kind=kind, message=message):
                    raise SfumatoError(f"Keyframe {spec.index + 1} of {count} failed: {message}", kind)
                case Cancelled():
                    break
                case _:
                    pass
    except asyncio.CancelledError:
        engine.cancel(job_id)
        raise
    raise SfumatoError(
        f"Keyframe {spec.index + 1} of {count} was cancelled. Run the zoom again to continue from it."
    )
