"""Each image of a job reaches the front end the moment it is made, so nothing made is ever lost
to a later failure or a cancel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sfumato.core.api import (
    Cancelled,
    Finished,
    ImageReady,
    Img2Img,
    Inpaint,
    Job,
    Morph,
    Outpaint,
    Step,
    Txt2Img,
)
from sfumato.core.engine import Engine
from tests.core.engine_helpers import run_events, terminal


def _jobs(model: Path) -> dict[str, Job]:
    init = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:40, 16:40] = 255
    name, prompt = str(model), "a red circle"
    return {
        "txt2img": Txt2Img(model=name, prompt=prompt, steps=2, width=64, height=64, batch=2),
        "img2img": Img2Img(
            model=name, prompt=prompt, steps=2, width=64, height=64, init=init, strength=0.6, batch=2
        ),
        "inpaint": Inpaint(model=name, prompt=prompt, steps=2, init=init, mask=mask, batch=2),
        "outpaint": Outpaint(model=name, prompt=prompt, steps=2, init=init, right=16, batch=2),
        "morph": Morph(model=name, prompt="a cat | a dog", steps=2, width=64, height=64, frames=2),
    }


@pytest.mark.parametrize("kind", ["txt2img", "img2img", "inpaint", "outpaint", "morph"])
async def test_every_image_is_announced_before_the_job_finishes(
    engine: Engine, tiny_model_dir: Path, kind: str
) -> None:
    events = await run_events(engine, _jobs(tiny_model_dir)[kind])

    finished = terminal(events)
    assert isinstance(finished, Finished)
    ready = [event for event in events if isinstance(event, ImageReady)]
    assert [event.index for event in ready] == list(range(len(finished.images)))
    for event, image, recipe in zip(ready, finished.images, finished.recipes, strict=True):
        assert np.array_equal(event.image, image)
        assert event.recipe == recipe
    # Image k is announced before image k+1 starts its steps, not at the end of the batch.
    first_ready = events.index(ready[0])
    later_steps = [e for e in events[first_ready:] if isinstance(e, Step)]
    assert later_steps and all(step.image >= 1 for step in later_steps)


async def test_a_late_cancel_keeps_the_images_already_announced(engine: Engine, tiny_model_dir: Path) -> None:
    job = Txt2Img(
        model=str(tiny_model_dir), prompt="a red circle", steps=2, width=64, height=64, seed=5, batch=20
    )
    job_id = engine.submit(job, listen=True)
    events = []
    async for event in engine.events(job_id):
        events.append(event)
        if isinstance(event, ImageReady) and event.index == 1:
            engine.cancel(job_id)

    assert isinstance(terminal(events), Cancelled)
    ready = [event for event in events if isinstance(event, ImageReady)]
    assert 2 <= len(ready) < 20
    assert [event.recipe.seed for event in ready] == [5 + n for n in range(len(ready))]
    assert all(event.image.shape == (64, 64, 3) for event in ready)
