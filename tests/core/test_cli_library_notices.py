"""`sfumato generate --in-process` (and `zoom`) keeps library notices (transformers' torchvision
fallbacks) off the console and in the engine's log, as the engine process does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("command", ["generate", "zoom"])
def test_in_process_generation_prints_no_library_notice(
    command: str, tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / ("image.png" if command == "generate" else "zoom.mp4")
    home = tmp_path / "sfumato"
    argv = [command, "--in-process", "--model", str(tiny_model_dir), "--prompt", "a red circle"]
    if command == "zoom":
        argv += ["--keyframes", "2", "--size", "64x64", "--fps", "4", "--seconds-per-keyframe", "0.5"]
    done = subprocess.run(
        [sys.executable, "-m", "sfumato.core.cli", *argv, "--steps", "2", "--out", str(out)],
        env={**os.environ, "SFUMATO_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert out.is_file()
    assert "torchvision" not in done.stderr and "[transformers]" not in done.stderr, done.stderr
    logs = "".join(path.read_text("utf-8") for path in home.rglob("engine.log"))
    assert "requires torchvision" in logs, "the notice this test keeps off the console was not logged"
