"""The app-memory benchmark runs and reports both engines' retention."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_reports_old_and_new_retention(tmp_path: Path) -> None:
    # In a process of its own, as it is run by hand: its Qt application and event loop leave nothing
    # behind in the test session's.
    out = tmp_path / "memory.json"
    command = [sys.executable, "-m", "bench.app_memory", "--jobs", "80", "--size", "64", "--steps", "2"]
    result = subprocess.run(
        [*command, "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(out.read_text())
    today, old = report["results"]["today"], report["results"]["old retention"]
    assert today["retained"] < report["bytes_per_job"] < old["retained"] / 50
    assert "peak, old / today" in result.stdout
