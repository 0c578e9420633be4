"""An engine process that keeps dying is restarted for as long as the app runs, later and later; the
jobs waiting for it fail after a few crashes in a row, and no job ever waits without an outcome."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from sfumato.core.api import ErrorKind, Failed, Finished, SfumatoError, Step, Txt2Img
from sfumato.core.engine import Engine, EngineSettings
from sfumato.core.engine_restarts import RestartPolicy
from tests.core.engine_helpers import collect, run_events, terminal
from tests.support.processes import children, gone_within

pytestmark = pytest.mark.skipif(os.name != "posix", reason="kills engine processes with POSIX signals")

OUTCOME_WITHIN = 30.0  # seconds: far more than the longest restart delay below, far less than forever


def job(model: Path, steps: int = 2) -> Txt2Img:
    return Txt2Img(model=str(model), prompt="a blue square", steps=steps, width=64, height=64, seed=3)


async def test_an_engine_that_keeps_dying_is_restarted_and_every_job_gets_an_outcome(
    tiny_model_dir: Path,
) -> None:
    engine = await Engine.start(
        EngineSettings(device="cpu"), restarts=RestartPolicy(first_delay=0.05, longest_delay=0.4)
    )
    killed: list[int] = []

    async def kill_engines_until(count: int) -> None:
        """Like a driver fault or the out-of-memory killer striking each fresh engine process."""
        while len(killed) < count:
            pid = engine.worker_pid
            if pid is not None and pid not in killed:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            await asyncio.sleep(0.01)

    try:
        running = engine.submit(job(tiny_model_dir, steps=400), listen=True)
        waiting = asyncio.ensure_future(collect(engine, engine.submit(job(tiny_model_dir), listen=True)))
        events = []
        async for event in engine.events(running):
            events.append(event)
            if isinstance(event, Step) and event.step == 1:
                await kill_engines_until(1)
        crashed = terminal(events)
        assert isinstance(crashed, Failed) and crashed.kind == ErrorKind.ENGINE_CRASHED

        # The waiting job survives three restarts that die at once; the fourth crash in a row fails it.
        await asyncio.wait_for(kill_engines_until(4), OUTCOME_WITHIN)
        gave_up = terminal(await asyncio.wait_for(waiting, OUTCOME_WITHIN))
        assert isinstance(gave_up, Failed) and gave_up.kind == ErrorKind.ENGINE_CRASHED
        assert "stopped 4 times in a row" in gave_up.message and "log" in gave_up.message

        # A job submitted after that waits for the next start, and fails when that one dies too.
        late = asyncio.ensure_future(collect(engine, engine.submit(job(tiny_model_dir), listen=True)))
        await asyncio.wait_for(kill_engines_until(5), OUTCOME_WITHIN)
        late_outcome = terminal(await asyncio.wait_for(late, OUTCOME_WITHIN))
        assert isinstance(late_outcome, Failed) and "stopped 5 times in a row" in late_outcome.message

        # Restarts never stop: once the faults do, jobs run again.
        recovered = terminal(await asyncio.wait_for(run_events(engine, job(tiny_model_dir)), 180))
        assert isinstance(recovered, Finished)
        assert engine.worker_pid not in (None, *killed)
    finally:
        await engine.close()


async def test_an_engine_that_is_not_ready_in_time_is_stopped_and_reported() -> None:
    before = set(children(os.getpid()))
    with pytest.raises(SfumatoError, match=r"not ready within 0\.1 seconds"):
        await Engine.start(EngineSettings(device="cpu"), restarts=RestartPolicy(start_timeout=0.1))
    assert gone_within(set(children(os.getpid())) - before, 10)


async def test_an_engine_that_cannot_be_launched_is_reported(tmp_path: Path) -> None:
    settings = EngineSettings(device="cpu", log_file=str(tmp_path / "missing folder" / "engine.log"))
    with pytest.raises(SfumatoError, match="could not start"):
        await Engine.start(settings)
