"""The engine as a front end sees it: jobs in, typed events out, in order, cancellable."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sfumato.core.api import (
    Cancelled,
    ErrorKind,
    Failed,
    Finished,
    Img2Img,
    Inpaint,
    Job,
    LoadingModel,
    Outpaint,
    Queued,
    Started,
    Step,
    Txt2Img,
)
from sfumato.core.engine import Engine
from tests.core.engine_helpers import collect, run_events, terminal


def tiny_job(model_dir: Path, **overrides: object) -> Txt2Img:
    settings: dict[str, Any] = dict(
        model=str(model_dir), prompt="a red circle", steps=3, width=64, height=64, seed=7
    )
    settings.update(overrides)
    return Txt2Img(**settings)


async def test_txt2img_streams_progress_previews_and_images(engine: Engine, tiny_model_dir: Path) -> None:
    events = await run_events(engine, tiny_job(tiny_model_dir, batch=2, width=64, height=72))

    kinds = [type(e) for e in events]
    assert kinds[:3] == [Queued, Started, LoadingModel]
    steps = [e for e in events if isinstance(e, Step)]
    assert [(s.image, s.step, s.total) for s in steps] == [(i, n, 3) for i in range(2) for n in (1, 2, 3)]
    assert all(s.preview is not None and s.preview.shape == (9, 8, 3) for s in steps)
    finished = terminal(events)
    assert isinstance(finished, Finished)
    assert [image.shape for image in finished.images] == [(72, 64, 3)] * 2
    assert [r.seed for r in finished.recipes] == [7, 8]
    assert finished.recipes[0].model == tiny_model_dir.name and len(finished.recipes[0].model_hash) == 10
    assert not np.array_equal(finished.images[0], finished.images[1])


async def test_same_recipe_and_seed_give_the_same_pixels(engine: Engine, tiny_model_dir: Path) -> None:
    first = terminal(await run_events(engine, tiny_job(tiny_model_dir)))
    again = terminal(await run_events(engine, tiny_job(tiny_model_dir)))
    other_seed = terminal(await run_events(engine, tiny_job(tiny_model_dir, seed=8)))
    assert isinstance(first, Finished) and isinstance(again, Finished) and isinstance(other_seed, Finished)
    assert np.array_equal(first.images[0], again.images[0])
    assert not np.array_equal(first.images[0], other_seed.images[0])


async def test_a_batch_image_is_reproduced_alone_from_its_recipe_seed(
    engine: Engine, tiny_model_dir: Path
) -> None:
    batch = terminal(await run_events(engine, tiny_job(tiny_model_dir, batch=3, seed=100)))
    alone = terminal(await run_events(engine, tiny_job(tiny_model_dir, seed=102)))
    assert isinstance(batch, Finished) and isinstance(alone, Finished)
    assert np.array_equal(batch.images[2], alone.images[0])


async def test_random_seed_is_recorded_and_reproducible(engine: Engine, tiny_model_dir: Path) -> None:
    first = terminal(await run_events(engine, tiny_job(tiny_model_dir, seed=-1)))
    assert isinstance(first, Finished)
    seed = first.recipes[0].seed
    assert 0 <= seed < 2**32
    again = terminal(await run_events(engine, tiny_job(tiny_model_dir, seed=seed)))
    assert isinstance(again, Finished) and np.array_equal(first.images[0], again.images[0])


async def test_jobs_run_in_order_and_the_loaded_model_is_reused(engine: Engine, tiny_model_dir: Path) -> None:
    ids = [engine.submit(tiny_job(tiny_model_dir, seed=s)) for s in (1, 2, 3)]
    seen: list[tuple[str, str]] = []
    async for event in engine.all_events():
        seen.append((type(event).__name__, event.job_id))
        if isinstance(event, Finished) and event.job_id == ids[-1]:
            break
    finished_order = [job_id for name, job_id in seen if name == "Finished"]
    assert finished_order == ids
    loads = [job_id for name, job_id in seen if name == "LoadingModel"]
    assert loads == [ids[0]]


async def test_queued_positions(engine: Engine, tiny_model_dir: Path) -> None:
    ids = [engine.submit(tiny_job(tiny_model_dir, seed=s), listen=True) for s in (1, 2, 3)]
    positions = []
    for job_id in ids:
        events = await collect(engine, job_id)
        assert isinstance(events[0], Queued)
        positions.append(events[0].position)
    assert positions == [0, 1, 2]


async def test_cancel_stops_within_one_step_and_the_next_job_succeeds(
    engine: Engine, tiny_model_dir: Path
) -> None:
    job_id = engine.submit(tiny_job(tiny_model_dir, steps=40), listen=True)
    events = []
    async for event in engine.events(job_id):
        events.append(event)
        if isinstance(event, Step) and event.step == 2:
            engine.cancel(job_id)
    steps_after_cancel = [e for e in events if isinstance(e, Step) and e.step > 2]
    assert isinstance(terminal(events), Cancelled)
    assert len(steps_after_cancel) <= 1
    assert not any(isinstance(e, Finished) for e in events)
    assert isinstance(terminal(await run_events(engine, tiny_job(tiny_model_dir))), Finished)


async def test_cancel_removes_a_waiting_job_from_the_queue(engine: Engine, tiny_model_dir: Path) -> None:
    first = engine.submit(tiny_job(tiny_model_dir, steps=6), listen=True)
    second = engine.submit(tiny_job(tiny_model_dir), listen=True)
    third = engine.submit(tiny_job(tiny_model_dir), listen=True)
    assert engine.waiting() == [second, third]
    engine.cancel(second)
    assert engine.waiting() == [third]
    second_events = await collect(engine, second)
    assert [type(e) for e in second_events] == [Queued, Cancelled]
    assert isinstance(terminal(await collect(engine, first)), Finished)
    assert isinstance(terminal(await collect(engine, third)), Finished)


@pytest.mark.parametrize(
    ("overrides", "kind", "words"),
    [
        ({"width": 60}, ErrorKind.BAD_INPUT, "multiple of 8"),
        ({"steps": -1}, ErrorKind.BAD_INPUT, "Steps"),
        ({"sampler": "Euler z"}, ErrorKind.BAD_INPUT, "Unknown sampler"),
        ({"model": "/nowhere/model.safetensors"}, ErrorKind.MODEL_NOT_FOUND, "No model"),
    ],
)
async def test_bad_jobs_fail_with_a_kind_and_a_message(
    engine: Engine, tiny_model_dir: Path, overrides: dict[str, object], kind: ErrorKind, words: str
) -> None:
    failed = terminal(await run_events(engine, tiny_job(tiny_model_dir, **overrides)))
    assert isinstance(failed, Failed)
    assert failed.kind == kind and words in failed.message


async def test_a_failed_job_does_not_stop_the_queue(engine: Engine, tiny_model_dir: Path) -> None:
    bad = engine.submit(tiny_job(tiny_model_dir, width=30), listen=True)
    good = engine.submit(tiny_job(tiny_model_dir), listen=True)
    assert isinstance(terminal(await collect(engine, bad)), Failed)
    assert isinstance(terminal(await collect(engine, good)), Finished)


async def test_run_returns_images_or_raises(engine: Engine, tiny_model_dir: Path) -> None:
    finished = await asyncio.wait_for(engine.run(tiny_job(tiny_model_dir)), 60)
    assert finished.images[0].shape == (64, 64, 3)


async def test_switching_modes_on_the_same_model_reuses_its_weights(
    engine: Engine, tiny_model_dir: Path
) -> None:
    picture = np.full((64, 64, 3), 90, np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    common: dict[str, Any] = dict(model=str(tiny_model_dir), prompt="a cat", steps=3, seed=3)
    jobs: list[Job] = [
        Txt2Img(width=64, height=64, **common),
        Img2Img(init=picture, width=64, height=64, strength=0.6, **common),
        Inpaint(init=picture, mask=mask, **common),
        Outpaint(init=picture, right=16, **common),
    ]
    loads = 0
    for job in jobs:
        events = await run_events(engine, job)
        assert isinstance(terminal(events), Finished)
        loads += sum(isinstance(e, LoadingModel) for e in events)
    assert loads == 1


async def test_only_listened_jobs_keep_their_events(engine: Engine, tiny_model_dir: Path) -> None:
    unheard = engine.submit(tiny_job(tiny_model_dir))
    heard = engine.submit(tiny_job(tiny_model_dir, seed=8), listen=True)
    events = await collect(engine, heard)
    assert isinstance(events[0], Queued) and isinstance(terminal(events), Finished)
    # A job nobody listens to runs, but none of its events (previews, images) are kept for later.
    with pytest.raises(KeyError, match="no events are kept"):
        await anext(engine.events(unheard))
    # Nor are a listened job's, once they have been read.
    with pytest.raises(KeyError, match="no events are kept"):
        await anext(engine.events(heard))
