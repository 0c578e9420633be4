"""What benchmarks share: describing the machine, and summarising interleaved timings."""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def describe_machine() -> dict[str, Any]:
    import diffusers
    import torch
    import transformers

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": cpu_model(),
        "architecture": platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "gpu": gpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
    }


def summary(times: Sequence[float]) -> dict[str, Any]:
    values = np.asarray(times, dtype=float)
    p25, median, p75 = np.percentile(values, [25, 50, 75])
    return {
        "median_s": float(median),
        "p25_s": float(p25),
        "p75_s": float(p75),
        "min_s": float(values.min()),
        "times_s": [float(v) for v in values],
    }


def ratio(numerator: Sequence[float], denominator: Sequence[float]) -> dict[str, float]:
    """The median of the per-round ratios, their quartiles as its spread, and the ratio of medians.

    The two lists are paired by round: entry i of each was taken in the same interleaved round, so a
    slow spell of a shared machine hits both sides of a pair alike; the per-round median keeps such
    spells out of the ratio, where the ratio of medians can mix a slow spell on one side with a fast
    one on the other.
    """
    top, bottom = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    p25, median, p75 = np.percentile(top / bottom, [25, 50, 75])
    return {
        "ratio": float(median),
        "round_ratio_p25": float(p25),
        "round_ratio_p75": float(p75),
        "ratio_of_medians": float(np.median(top) / np.median(bottom)),
    }


def rotated(names: Sequence[str], round_index: int) -> list[str]:
    """The run order for one round: each variant takes each position equally often."""
    shift = round_index % len(names)
    return [*names[shift:], *names[:shift]]


@contextlib.contextmanager
def bench_environment(home: Path, threads: int | None) -> Iterator[None]:
    """No network, model hashes cached in the temp folder, and the same thread count on every side
    (engine processes inherit the environment)."""
    wanted = {"SFUMATO_HOME": str(home), "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    if threads is not None:
        wanted |= {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    saved = {name: os.environ.get(name) for name in wanted}
    saved_threads = torch.get_num_threads()
    os.environ.update(wanted)
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(saved_threads)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
