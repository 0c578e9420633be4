"""`sfumato generate --in-process` keeps library notices (transformers' torchvision fallbacks) off
the console and in the engine's log, as the engine process does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_in_process_generation_prints_no_library_notice(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "image.png"
    home = tmp_path / "sfumato"
    argv = ["generate", "--in-process", "--model", str(tiny_model_dir), "--prompt", "a red circle"]
    done = subprocess.run(
        [sys.executable, "-m", "sfumato.core.cli", *argv, "--steps", "2", "--out", str(out)],
        env={**os.environ, "SFUMATO_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(out)]
    assert "torchvision" not in done.stderr and "[transformers]" not in done.stderr, done.stderr
    logs = "".join(path.read_text("utf-8") for path in home.rglob("engine.log"))
    assert "requires torchvision" in logs, "the notice this test keeps off the console was not logged"
