"""Helpers for driving the engine from tests."""

from __future__ import annotations

from sfumato.core.api import TERMINAL_EVENTS, Event, Finished, Job
from sfumato.core.engine import Engine


async def collect(engine: Engine, job_id: str) -> list[Event]:
    return [event async for event in engine.events(job_id)]


async def run_events(engine: Engine, job: Job) -> list[Event]:
    return await collect(engine, engine.submit(job, listen=True))


def terminal(events: list[Event]) -> Event:
    last = events[-1]
    assert isinstance(last, TERMINAL_EVENTS), f"stream ended with {last!r}"
    return last


async def run_to_finish(engine: Engine, job: Job) -> Finished:
    """Run `job` and return its images; any other ending fails the test and is shown."""
    finished = terminal(await run_events(engine, job))
    assert isinstance(finished, Finished), finished
    return finished
