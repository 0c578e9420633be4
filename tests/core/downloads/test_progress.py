"""Speed and time-left estimates, driven by a controlled clock."""

from __future__ import annotations

import pytest

from sfumato.core.models.download.progress import DownloadProgress, ProgressMeter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_speed_and_time_left_follow_the_bytes_received() -> None:
    clock, events = Clock(), list[DownloadProgress]()
    meter = ProgressMeter("o/m", total=10_000_000, files_total=2, sink=events.append, clock=clock)
    meter.already_there(2_000_000)  # finished by an earlier download: done, but not part of the speed

    meter.start_file("unet.safetensors", 8_000_000)
    meter.file_bytes(1_000_000, 0)  # taken over from a partial file
    for second in range(1, 5):
        clock.now += 1.0
        meter.file_bytes(1_000_000 + second * 500_000, 500_000)

    last = events[-1]
    assert last.done == 2_000_000 + 3_000_000
    assert last.file_done == 3_000_000 and last.file_total == 8_000_000
    assert last.files_done == 1
    assert last.bytes_per_second == pytest.approx(500_000)
    assert last.eta_seconds == pytest.approx(5_000_000 / 500_000)


def test_reports_stay_few_and_a_silent_server_lowers_the_speed() -> None:
    clock, events = Clock(), list[DownloadProgress]()
    meter = ProgressMeter("o/m", total=4_000_000, files_total=1, sink=events.append, clock=clock)
    meter.start_file("unet.safetensors", 4_000_000)
    for step in range(1, 21):
        clock.now += 0.05
        meter.file_bytes(step * 100_000, 100_000)
    assert len(events) <= 11  # the file start, then at most one report per tenth of a second
    flowing = events[-1].bytes_per_second
    assert flowing == pytest.approx(2_000_000)

    clock.now += 2.0
    meter.file_bytes(2_000_000, 0)
    assert 0 < events[-1].bytes_per_second < flowing / 2
    assert events[-1].eta_seconds is not None and events[-1].eta_seconds > 1.0

    meter.finish_file()
    finished: DownloadProgress = events[-1]
    assert finished.done == finished.total and finished.eta_seconds == 0.0
