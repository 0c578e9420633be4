"""How much memory do a queue of jobs' events leave behind in the studio?

Many txt2img jobs with a preview every step go through the studio's `EngineClient` to a real `Engine`
whose serving loop is played back without a model (`tests/support/scripted_backend.py`), so the
previews and images are real arrays of the real sizes and arrive the way the real loop sends them.
A tenth of the jobs are followed to their end the way the Zoom panel follows its keyframes. Two
engines run side by side in one process: today's, which keeps a job's events only for a listener, and
`OldRetentionEngine`, the former policy (every job's events kept, the last 64 unread ones after they
ended). Reported per engine: bytes still held after every job ended (tracemalloc, over a warmed-up
start), the peak while they ran, and the resident size's growth.

Run from the repository root:  python -m bench.app_memory [--jobs 200] [--size 512] [--steps 20]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import tracemalloc
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import psutil

from bench.measure import cpu_model
from sfumato.core.api import TERMINAL_EVENTS, EngineSettings, Event, Job, Txt2Img
from sfumato.core.engine import Engine
from sfumato.desktop.engine_client import EngineClient, EngineFactory, EngineLike
from tests.support.scripted_backend import scripted_backend

OLD_UNREAD_STREAMS_KEPT = 64
WARM_UP_JOBS = 5
MB = 1024 * 1024


class OldRetentionEngine(Engine):
    """The engine's former policy, for comparison: every job's events kept in a stream of its own, and
    the streams of the last 64 jobs nobody read kept after those jobs ended."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._old_unread: deque[str] = deque()

    def submit(self, job: Job, *, listen: bool = False) -> str:
        return super().submit(job, listen=True)

    def _emit(self, event: Event) -> None:
        super()._emit(event)
        if isinstance(event, TERMINAL_EVENTS):
            self._old_unread.append(event.job_id)
            while len(self._old_unread) > OLD_UNREAD_STREAMS_KEPT:
                self._listened.forget(self._old_unread.popleft())


def scripted_engine(engine_class: type[Engine] = Engine) -> EngineFactory:
    """A factory of `engine_class` engines whose serving loop is scripted, with full-size previews."""

    async def start() -> EngineLike:
        return await engine_class.start(
            EngineSettings(in_process=True), backend=scripted_backend(full_previews=True)
        )

    return start


def event_bytes(job: Job) -> int:
    """The pixels one job sends: a full-size preview per step, then its images."""
    return job.width * job.height * 3 * (job.steps + job.batch)


async def run_jobs(client: EngineClient, job: Job, count: int, *, listen_every: int = 0) -> int:
    """Queue `count` copies of `job` through `client` at once and wait until every one has ended;
    every `listen_every`-th job is also read to its end with `client.events`. The events seen."""
    seen = 0
    ended = asyncio.Event()
    remaining = count

    def on_event(event: Event) -> None:
        nonlocal seen, remaining
        seen += 1
        if isinstance(event, TERMINAL_EVENTS):
            remaining -= 1
            if remaining == 0:
                ended.set()

    async def follow(job_id: str) -> None:
        async for _event in client.events(job_id):
            pass

    client.engine_event.connect(on_event)
    followers = []
    try:
        for index in range(count):
            listen = listen_every > 0 and index % listen_every == 0
            job_id = client.submit(job, listen=listen)
            if listen:
                followers.append(asyncio.ensure_future(follow(job_id)))
        await ended.wait()
        await asyncio.gather(*followers)
    finally:
        client.engine_event.disconnect(on_event)
    return seen


@dataclass(frozen=True)
class Retention:
    events: int  # events the client handed on while measured
    retained: int  # bytes still allocated once every job ended, over the warmed-up start
    peak: int  # most bytes allocated at once while the jobs ran, over that start
    rss_growth: int


async def measure(factory: EngineFactory, job: Job, count: int, *, listen_every: int = 10) -> Retention:
    """Run `count` jobs through a fresh client on `factory`'s engine; tracemalloc must be tracing."""
    client = EngineClient(factory)
    await client.start()
    process = psutil.Process(os.getpid())
    try:
        await run_jobs(client, job, WARM_UP_JOBS)
        gc.collect()
        tracemalloc.reset_peak()
        before, rss_before = tracemalloc.get_traced_memory()[0], process.memory_info().rss
        events = await run_jobs(client, job, count, listen_every=listen_every)
        gc.collect()
        after, peak = tracemalloc.get_traced_memory()
        rss_growth = process.memory_info().rss - rss_before
    finally:
        await client.close()
    return Retention(events, after - before, peak - before, rss_growth)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--size", type=int, default=512, help="square image side, pixels")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--json", metavar="OUT", help="also write the results here")
    args = parser.parse_args(argv)

    import qasync
    from PySide6.QtCore import QCoreApplication

    QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    job = Txt2Img(
        model="scripted", prompt="a lighthouse", steps=args.steps, width=args.size, height=args.size
    )

    async def compare() -> dict[str, Retention]:
        engines = {"today": Engine, "old retention": OldRetentionEngine}
        return {name: await measure(scripted_engine(kind), job, args.jobs) for name, kind in engines.items()}

    tracemalloc.start()
    try:
        results = qasync.run(compare())
    finally:
        tracemalloc.stop()

    per_job = event_bytes(job)
    print(
        f"{args.jobs} jobs of {args.size}×{args.size}, {args.steps} steps, a full-size preview every step "
        f"({per_job / MB:.1f} MB of pixels a job), on {cpu_model()} ({os.cpu_count()} CPUs)"
    )
    for name, result in results.items():
        held = f"{result.retained / MB:8.1f} MB ({result.retained / per_job:5.1f} jobs)"
        print(
            f"  {name:>13}: held after {held}, peak {result.peak / MB:8.1f} MB, "
            f"RSS growth {result.rss_growth / MB:8.1f} MB"
        )
    old, new = results["old retention"], results["today"]
    print(f"  peak, old / today: {old.peak / max(new.peak, 1):.0f}×")
    if args.json:
        report = {
            "jobs": args.jobs,
            "size": args.size,
            "steps": args.steps,
            "bytes_per_job": per_job,
            "cpu": cpu_model(),
            "cpu_count": os.cpu_count(),
            "results": {name: asdict(result) for name, result in results.items()},
        }
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
