"""The app-memory benchmark runs and reports both engines' retention."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from bench.app_memory import main


def test_the_benchmark_reports_old_and_new_retention(
    qapp: QApplication, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Run on the test session's QApplication: a bare QCoreApplication made here would be the only
    # one the process can have, and later widget tests need a QApplication.
    out = tmp_path / "memory.json"
    assert main(["--jobs", "80", "--size", "64", "--steps", "2", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    today, old = report["results"]["today"], report["results"]["old retention"]
    assert today["retained"] < report["bytes_per_job"] < old["retained"] / 50
    assert "peak, old / today" in capsys.readouterr().out
