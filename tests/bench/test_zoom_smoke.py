"""The zoom benchmark runs end to end on the tiny model and reports well-formed results.

Timings are not asserted: they depend on the machine."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.zoom import BARE, FORMATS, LOOP, main


def test_a_short_run_times_keyframes_and_frames_and_writes_the_same_results_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "zoom.json"
    argv = ["--repeats", "1", "--warmup", "1", "--steps", "2", "--keyframes", "2", "--video-size", "64"]
    results = main([*argv, "--fps", "4", "--threads", "1", "--json", str(out)])

    assert json.loads(out.read_text("utf-8")) == results
    keyframes, frames = results["keyframes"], results["frames"]
    assert set(keyframes["seconds_per_keyframe"]) == {LOOP, BARE}
    assert all(t["median_s"] > 0 for t in keyframes["seconds_per_keyframe"].values())
    assert math.isfinite(keyframes["overhead"]["ratio"]) and keyframes["overhead"]["ratio"] > 0
    assert frames["frames"] == 4 + 1 and frames["size"] == [64, 64]
    assert all(t["median_s"] > 0 for t in frames["seconds_per_frame"].values())
    assert set(frames["render_share"]) == set(FORMATS)
    assert "loop / bare jobs" in capsys.readouterr().out
