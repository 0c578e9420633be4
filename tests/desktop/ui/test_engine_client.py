"""The engine client: the engine's typed events arrive as they are, a listened job's events can be read
to its end, a crash is reported and survived, and the Qt event loop keeps answering while a real
generation runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import qasync
from PySide6.QtCore import Qt, QTimer
from pytestqt.qtbot import QtBot

from sfumato.core.api import (
    Cancelled,
    ErrorKind,
    Event,
    Failed,
    Finished,
    ImageReady,
    Queued,
    Started,
    Step,
    Txt2Img,
)
from sfumato.desktop.engine_client import EngineClient, EngineState
from tests.desktop.ui.conftest import run
from tests.desktop.ui.fake_engine import FakeEngine


def _job(model: str = "model", **overrides: object) -> Txt2Img:
    settings: dict = dict(model=model, prompt="a red circle", steps=4, width=64, height=64, seed=3)
    settings.update(overrides)
    return Txt2Img(**settings)


def test_engine_events_arrive_as_they_are_in_order(
    qtbot: QtBot, client: EngineClient, fake_engine: FakeEngine
) -> None:
    received: list[Event] = []
    client.engine_event.connect(received.append)

    job_id = client.submit(_job(batch=2))
    qtbot.waitUntil(lambda: any(isinstance(event, Started) for event in received))
    assert client.state is EngineState.GENERATING
    preview = np.zeros((8, 8, 3), np.uint8)
    fake_engine.step(1, 4, preview=preview)
    fake_engine.step(2, 4)
    images = fake_engine.finish()
    qtbot.waitUntil(lambda: isinstance(received[-1], Finished))

    assert [type(event) for event in received] == [
        Queued,
        Started,
        Step,
        Step,
        ImageReady,
        ImageReady,
        Finished,
    ]
    assert {event.job_id for event in received} == {job_id}
    first_step, finished = received[2], received[-1]
    assert isinstance(first_step, Step) and first_step.preview is preview, "previews travel unchanged"
    assert isinstance(finished, Finished) and finished.images == images
    assert client.state is EngineState.IDLE
    assert client.jobs == {}


def test_a_listened_job_yields_all_its_events_and_nothing_is_kept_after(
    qtbot: QtBot, client: EngineClient, fake_engine: FakeEngine
) -> None:
    job_id = client.submit(_job(), listen=True)
    unheard = client.submit(_job(prompt="nobody listens"))
    fake_engine.step(1, 4, preview=np.zeros((8, 8, 3), np.uint8))
    fake_engine.finish()

    async def read(of: str) -> list[Event]:
        return [event async for event in client.events(of)]

    events = run(qtbot, read(job_id))
    assert [type(event) for event in events] == [Queued, Started, Step, ImageReady, Finished]
    for gone in (job_id, unheard):
        with pytest.raises(KeyError, match="no events are kept"):
            run(qtbot, read(gone))


def test_waiting_jobs_are_listed_and_can_be_removed(
    qtbot: QtBot, client: EngineClient, fake_engine: FakeEngine
) -> None:
    first = client.submit(_job())
    second = client.submit(_job(prompt="a blue square"))
    third = client.submit(_job(prompt="a green tree"))
    assert client.running == first
    assert client.waiting() == [second, third]

    events: list[Event] = []
    client.engine_event.connect(events.append)
    client.cancel(second)
    qtbot.waitUntil(lambda: Cancelled(second) in events)
    assert client.waiting() == [third]


def test_a_crash_is_reported_and_the_client_carries_on(
    qtbot: QtBot, client: EngineClient, fake_engine: FakeEngine
) -> None:
    crashes: list[str] = []
    failures: list[tuple[str, ErrorKind]] = []
    client.crashed.connect(crashes.append)
    client.engine_event.connect(
        lambda event: failures.append((event.job_id, event.kind)) if isinstance(event, Failed) else None
    )
    job_id = client.submit(_job())
    qtbot.waitUntil(lambda: client.state is EngineState.GENERATING)

    fake_engine.crash()
    qtbot.waitUntil(lambda: bool(crashes))
    assert failures == [(job_id, ErrorKind.ENGINE_CRASHED)]
    assert client.state is EngineState.RESTARTING

    fake_engine.come_back()
    qtbot.waitUntil(lambda: client.state is EngineState.IDLE, timeout=3000)
    again = client.submit(_job())
    qtbot.waitUntil(lambda: client.running == again)


def test_an_engine_that_cannot_start_leaves_a_plain_message(qtbot: QtBot, qt_loop: qasync.QEventLoop) -> None:
    from sfumato.core.api import BadInput

    async def broken() -> FakeEngine:
        raise BadInput("A CUDA GPU was asked for, but PyTorch sees none on this computer.")

    failing = EngineClient(broken)
    run(qtbot, failing.start())
    assert failing.state is EngineState.FAILED
    assert "CUDA" in failing.error
    with pytest.raises(Exception, match="CUDA"):
        failing.submit(_job())


def _timer_lateness_ms(qtbot: QtBot, interval_ms: int, until: Callable[[], bool]) -> np.ndarray:
    """How late each tick of a precise `interval_ms` timer came, in ms, until `until()` is true."""
    ticks: list[float] = []
    timer = QTimer(interval=interval_ms, timerType=Qt.TimerType.PreciseTimer)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    qtbot.waitUntil(until, timeout=60_000)
    timer.stop()
    return np.diff(np.asarray(ticks)) * 1000 - interval_ms


def test_the_event_loop_keeps_answering_during_a_real_generation(
    qtbot: QtBot, real_client: EngineClient, tiny_model_dir: Path
) -> None:
    # The machine's own jitter, measured just before, is the baseline: a busy machine delays every
    # timer a little, while a loop that waited on the engine would be late by whole steps.
    interval_ms = 5
    idle_until = time.perf_counter() + 0.5
    idle = _timer_lateness_ms(qtbot, interval_ms, lambda: time.perf_counter() > idle_until)
    events: list[Event] = []
    real_client.engine_event.connect(events.append)
    real_client.submit(_job(str(tiny_model_dir), steps=40, width=128, height=128))
    busy = _timer_lateness_ms(
        qtbot, interval_ms, lambda: any(isinstance(event, Finished) for event in events)
    )

    assert len(busy) > 50, "the generation was too short to measure anything"
    bound = 25.0 + float(np.percentile(idle, 99))
    assert float(np.percentile(busy, 99)) < bound, (
        f"p99 {np.percentile(busy, 99):.1f} ms (bound {bound:.1f} ms), max {busy.max():.1f} ms "
        f"over {len(busy)} ticks"
    )
