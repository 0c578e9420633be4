"""Ctrl+C in a terminal reaches every process in the foreground group; the CLI must cancel the job,
exit 130 and leave no engine process or half-written file behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups and SIGINT are POSIX")


def _children(pid: int) -> list[int]:
    output = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in output.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


def test_ctrl_c_cancels_cleanly(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    command = [sys.executable, "-m", "sfumato.core.cli", "generate", "--model", str(tiny_model_dir),
               "--prompt", "a red circle", "--width", "64", "--height", "64", "--steps", "3",
               "--batch", "100", "--device", "cpu", "--out", str(out)]  # fmt: skip
    env = {**os.environ, "SFUMATO_HOME": str(tmp_path / "home")}
    cli = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    assert cli.stderr is not None
    for line in cli.stderr:  # wait until images are being made, so the engine is busy with the job
        if "image 2/100 done" in line:
            break
    engines = _children(cli.pid)
    assert engines, "the CLI should run its engine in a child process"

    os.killpg(cli.pid, signal.SIGINT)  # what a terminal does on Ctrl+C
    assert cli.wait(timeout=60) == 130
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in engines) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in engines), "the engine process outlived the CLI"
    assert not list(tmp_path.glob("out*.png")), "a cancelled batch must write nothing"
