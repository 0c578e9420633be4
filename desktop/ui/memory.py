"""How much memory the studio uses: RAM of this process and of the engine process, and the GPU
memory the engine holds (where the system can tell)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys

import psutil


def ram_in_use(engine_pid: int | None) -> int:
    """Resident bytes of this process plus the engine's process, when it has its own."""
    total = psutil.Process(os.getpid()).memory_info().rss
    if engine_pid is not None:
        with contextlib.suppress(psutil.Error):
            total += psutil.Process(engine_pid).memory_info().rss
    return int(total)


async def gpu_memory_in_use(device: str, engine_pid: int | None) -> int | None:
    """Bytes of GPU memory the engine holds, or None when it cannot be told."""
    if device != "cuda":
        return None
    if engine_pid is None:
        torch = sys.modules.get("torch")  # in-process: the engine has loaded torch here already
        return int(torch.cuda.memory_reserved()) if torch is not None else None
    return await _nvidia_smi_usage(engine_pid)


async def _nvidia_smi_usage(pid: int) -> int | None:
    program = shutil.which("nvidia-smi")
    if program is None:
        return None
    try:
        process = await asyncio.create_subprocess_exec(
            program,
            "--query-compute-apps=pid,used_memory",
            "--format=csv,noheader,nounits",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        output, _ = await asyncio.wait_for(process.communicate(), 5.0)
    except (OSError, TimeoutError):
        return None
    for line in output.decode(errors="replace").splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) == 2 and parts[0] == str(pid) and parts[1].isdigit():
            return int(parts[1]) * 1024 * 1024
    return 0


def format_bytes(count: int | None) -> str:
    if count is None:
        return "–"
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
