"""The canvas benchmark runs and reports well-formed numbers (no timing is asserted)."""

from __future__ import annotations

import math

from bench.canvas import run


def test_a_short_canvas_run_reports_frame_times() -> None:
    results = run(size=512, frames=6, view=(320, 200))
    assert results["frames"] == 6
    for side in ("canvas_ms", "baseline_ms"):
        assert results[side]["median"] > 0 and math.isfinite(results[side]["p95"])
    assert results["ratio_median"] > 0
