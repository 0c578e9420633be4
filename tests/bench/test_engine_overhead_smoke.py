"""The engine overhead benchmark runs end to end on the tiny model and reports well-formed results.

Timings are not asserted: they depend on the machine. What must hold is that every variant ran, the
numbers are usable, and both sides produced the same picture (so the comparison is like for like).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch

from bench.engine_overhead import LABELS, PLAIN, main


def test_a_short_run_reports_every_variant_and_writes_the_same_results_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "overhead.json"

    results = main(["--repeats", "1", "--steps", "2", "--warmup", "1", "--threads", "1", "--json", str(out)])

    assert json.loads(out.read_text("utf-8")) == results
    assert results["machine"]["cpu_count"] == os.cpu_count()
    assert results["machine"]["torch"] == torch.__version__
    assert results["device"]["device"] == results["engine_device"]["device"]
    assert results["settings"] | {"width": 64, "height": 64, "steps": 2, "repeats": 1} == results["settings"]

    assert set(results["timings"]) == set(LABELS)
    for timing in results["timings"].values():
        assert len(timing["times_s"]) == 1
        assert timing["median_s"] == timing["times_s"][0] > 0

    assert set(results["overhead"]) == set(LABELS) - {PLAIN}
    for overhead in results["overhead"].values():
        assert math.isfinite(overhead["ratio"]) and overhead["ratio"] > 0
        assert math.isfinite(overhead["ratio_of_medians"]) and overhead["ratio_of_medians"] > 0
        assert overhead["round_ratio_p25"] <= overhead["round_ratio_p75"]
        assert overhead["met"] == (overhead["ratio"] <= overhead["goal"])

    preview = results["preview"]
    assert preview["step_s"] > 0 and math.isfinite(preview["fraction_of_step"])
    assert preview["call_s"] > 0 and preview["call_fraction_of_step"] > 0
    assert preview["met"] == (preview["fraction_of_step"] < preview["goal"])

    same = results["same_work"]
    assert same["image_shape"] == [64, 64, 3] and same["plain_image_finite"]
    # Same model, seed and sampler on the same CPU: the engine must draw the plain pipeline's picture.
    assert set(same["max_pixel_difference"]) == set(LABELS) - {PLAIN}
    assert all(difference <= 1 for difference in same["max_pixel_difference"].values())

    printed = capsys.readouterr().out
    assert "Machine:" in printed and "Overhead, engine / plain" in printed and "Preview cost" in printed


def test_a_run_without_the_plain_baseline_is_refused() -> None:
    with pytest.raises(SystemExit):
        main(["--variants", "engine_thread"])
