"""Every reader of outside data, fed hostile input by Hypothesis in a child process under hard limits
(see tests/support/fuzzing.py): it must answer with Sfumato's own error, in time, in bounded memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGET_MODULES = sorted(path.stem for path in Path(__file__).parent.glob("targets_*.py"))
EXAMPLES = int(os.environ.get("SFUMATO_FUZZ_EXAMPLES", "150"))


@pytest.mark.timeout(600)
@pytest.mark.parametrize("module", TARGET_MODULES)
def test_reader_survives_hostile_input(module: str) -> None:
    command = [
        sys.executable,
        "-m",
        "tests.support.fuzzing",
        f"tests.fuzz.{module}",
        "--examples",
        str(EXAMPLES),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=580)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:]
    reports = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert reports, "the fuzz module defines no targets"
    for report in reports:
        assert report["examples"] > 0, report
