"""The engine in its own process: the default for the app, and the reason a crash loses nothing."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import torch

from sfumato.core.api import ErrorKind, Failed, Finished, Step, Txt2Img
from sfumato.core.engine import Engine, EngineSettings
from tests.core.engine_helpers import collect, run_events, terminal


@pytest.fixture
async def process_engine() -> AsyncIterator[Engine]:
    engine = await Engine.start(EngineSettings(device="cpu"))
    yield engine
    await engine.close()


def job(model: Path, steps: int = 3, seed: int = 11) -> Txt2Img:
    return Txt2Img(model=str(model), prompt="a blue square", steps=steps, width=64, height=64, seed=seed)


async def test_the_engine_process_reports_its_device_and_matches_in_process_pixels(
    process_engine: Engine, engine: Engine, tiny_model_dir: Path
) -> None:
    assert process_engine.worker_pid not in (None, os.getpid())
    assert process_engine.info is not None and process_engine.info.device == "cpu"
    assert process_engine.info.dtype == "float32"
    remote = terminal(await run_events(process_engine, job(tiny_model_dir)))
    local = terminal(await run_events(engine, job(tiny_model_dir)))
    assert isinstance(remote, Finished) and isinstance(local, Finished)
    assert np.array_equal(remote.images[0], local.images[0])
    assert remote.recipes == local.recipes


async def test_a_killed_engine_fails_the_running_job_restarts_and_runs_the_next(
    process_engine: Engine, tiny_model_dir: Path
) -> None:
    first_pid = process_engine.worker_pid
    assert first_pid is not None
    doomed = process_engine.submit(job(tiny_model_dir, steps=400), listen=True)
    waiting = process_engine.submit(job(tiny_model_dir), listen=True)
    events = []
    async for event in process_engine.events(doomed):
        events.append(event)
        if isinstance(event, Step) and event.step == 1:
            os.kill(first_pid, signal.SIGKILL)
    failed = terminal(events)
    assert isinstance(failed, Failed) and failed.kind == ErrorKind.ENGINE_CRASHED
    assert "restarted" in failed.message

    # The queued job survives the crash and runs on the fresh engine.
    assert isinstance(terminal(await collect(process_engine, waiting)), Finished)
    assert process_engine.worker_pid not in (None, first_pid)
    assert isinstance(terminal(await run_events(process_engine, job(tiny_model_dir))), Finished)


def _a_missing_gpu() -> tuple[str, str]:
    """A GPU kind this computer lacks, and the word its error names it by."""
    if not torch.cuda.is_available():
        return "cuda", "CUDA"
    return "mps", "Metal"


async def test_an_unavailable_device_is_reported_at_start() -> None:
    device, named = _a_missing_gpu()
    with pytest.raises(Exception, match=named):
        await Engine.start(EngineSettings(device=device))
