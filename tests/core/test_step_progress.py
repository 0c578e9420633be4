"""Progress counts the steps the artist asked for, with every sampler and in every task: samplers
that evaluate the model twice a step (Heun, DPM2, DPM++ SDE) or warm up (PLMS) report no extra steps."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sfumato.core.api import Img2Img, Inpaint, Job, Morph, Outpaint, Step, Txt2Img
from sfumato.core.devices import pick_device
from sfumato.core.engine import Engine, EngineSettings
from sfumato.core.schedulers import sampler_names
from sfumato.core.worker import Worker
from sfumato.core.zoom.geometry import Direction
from sfumato.core.zoom.keyframe_loop import render_keyframes
from sfumato.core.zoom.progress import KeyframeStep, ZoomProgress
from sfumato.core.zoom.settings import ZoomSettings
from tests.core.image_checks import run_on_worker


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    with pytest.MonkeyPatch.context() as patch:  # the model hash cache stays out of the real home
        patch.setenv("SFUMATO_HOME", str(tmp_path_factory.mktemp("home")))
        yield Worker(pick_device("cpu"))


def common(model: Path, sampler: str) -> dict[str, Any]:
    return dict(
        model=str(model), prompt="a red circle", sampler=sampler, steps=2, width=64, height=64, seed=3
    )


def progress(worker: Worker, job: Job) -> list[tuple[int, int, int, int]]:
    """(step, total, image, images) of every Step event of `job`, which must finish."""
    events = run_on_worker(worker, job)
    assert not isinstance(events[-1], Exception)
    return [(e.step, e.total, e.image, e.images) for e in events if isinstance(e, Step)]


def counting(steps: int, images: int) -> list[tuple[int, int, int, int]]:
    return [(step, steps, image, images) for image in range(images) for step in range(1, steps + 1)]


@pytest.mark.parametrize("sampler", sampler_names())
def test_text_to_image_and_morph_frames_count_the_steps_asked_for(
    worker: Worker, tiny_model_dir: Path, sampler: str
) -> None:
    settings = common(tiny_model_dir, sampler)
    assert progress(worker, Txt2Img(**settings)) == counting(2, 1)
    morph = Morph(**{**settings, "prompt": "a red circle | a blue square"}, frames=1)
    assert progress(worker, morph) == counting(2, 2)


@pytest.mark.parametrize("sampler", ["Heun", "PLMS"])
def test_image_edits_count_the_steps_they_run(worker: Worker, tiny_model_dir: Path, sampler: str) -> None:
    settings = {**common(tiny_model_dir, sampler), "steps": 4}
    image = np.full((64, 64, 3), 90, np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    # Half the strength runs half the steps, as in AUTOMATIC1111.
    assert progress(worker, Img2Img(**settings, init=image, strength=0.5)) == counting(2, 1)
    assert progress(worker, Inpaint(**settings, init=image, mask=mask)) == counting(4, 1)
    assert progress(worker, Outpaint(**settings, init=image, right=16, strength=1.0)) == counting(4, 1)


def test_zoom_keyframes_count_the_steps_asked_for(tiny_model_dir: Path, tmp_path: Path) -> None:
    settings = ZoomSettings(
        model=str(tiny_model_dir), prompt="a red circle", sampler="Heun", steps=2, seed=5, width=64,
        height=64, keyframes=2, direction=Direction.OUT, strength=1.0,
    )  # fmt: skip
    events: list[ZoomProgress] = []

    async def render() -> None:
        engine = await Engine.start(EngineSettings(device="cpu", in_process=True))
        try:
            await render_keyframes(engine, settings, tmp_path / "keyframes", on_progress=events.append)
        finally:
            await engine.close()

    asyncio.run(render())
    steps = [(e.index, e.step, e.steps) for e in events if isinstance(e, KeyframeStep)]
    assert steps == [(0, 1, 2), (0, 2, 2), (1, 1, 2), (1, 2, 2)]
