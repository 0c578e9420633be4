"""Watching real processes from tests: whose children they are, and whether they are still running."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path


def children(pid: int) -> list[int]:
    """The ids of the processes `pid` started that are still there."""
    output = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in output.stdout.split()]


def alive(pid: int) -> bool:
    """Whether `pid` is running (a zombie that only waits to be reaped is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    try:
        return status.read_text().split()[2] != "Z"
    except FileNotFoundError:  # it has just ended, or there is no /proc to ask (macOS)
        return not Path("/proc/self").exists()


def gone_within(pids: Iterable[int], seconds: float) -> bool:
    """Wait up to `seconds` for every process in `pids` to end; whether they all did."""
    waiting = list(pids)
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in waiting) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(alive(pid) for pid in waiting)
