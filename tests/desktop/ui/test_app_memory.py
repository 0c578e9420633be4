"""A long queue of jobs with previews leaves the studio's memory where it was: the events of jobs nobody
follows are handed on and let go, and a followed job's once they have been read."""

from __future__ import annotations

import tracemalloc

import qasync
from pytestqt.qtbot import QtBot

from bench.app_memory import event_bytes, measure, scripted_engine
from sfumato.core.api import Txt2Img
from tests.desktop.ui.conftest import run

JOBS = 200


def test_200_jobs_with_previews_leave_the_studios_memory_bounded(
    qtbot: QtBot, qt_loop: qasync.QEventLoop
) -> None:
    job = Txt2Img(model="scripted", prompt="a lighthouse", steps=4, width=512, height=512)
    tracemalloc.start()
    try:
        result = run(qtbot, measure(scripted_engine(), job, JOBS, listen_every=10), timeout_ms=120_000)
    finally:
        tracemalloc.stop()

    per_job = event_bytes(job)  # 3.9 MB: four full-size previews and the image
    assert result.events == JOBS * (1 + 1 + job.steps + 1), "every job's events reached the studio"
    # Keeping the events of the last 64 unread jobs, as the engine once did, holds about 250 MB here.
    assert result.retained < per_job, f"{result.retained / per_job:.1f} jobs' events are still held"
    assert result.peak < 8 * per_job, f"{result.peak / per_job:.1f} jobs' events were held at once"
