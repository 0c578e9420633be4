"""Helpers for driving the engine from tests."""

from __future__ import annotations

from sfumato.core.api import TERMINAL_EVENTS, Event, Job
from sfumato.core.engine import Engine


async def collect(engine: Engine, job_id: str) -> list[Event]:
    return [event async for event in engine.events(job_id)]


async def run_events(engine: Engine, job: Job) -> list[Event]:
    return await collect(engine, engine.submit(job, listen=True))


def terminal(events: list[Event]) -> Event:
    last = events[-1]
    assert isinstance(last, TERMINAL_EVENTS), f"stream ended with {last!r}"
    return last
