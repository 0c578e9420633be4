"""Run fuzz targets under hard limits, in a child process of their own.

A fuzz target module (tests/fuzz/targets_*.py) defines `TARGETS`, a list of `FuzzTarget`: a
Hypothesis strategy of hostile inputs and the reader to feed them to. For every example the reader
must either return or raise one of Sfumato's own errors; anything else fails, and so does an example
that runs over `SECONDS_PER_EXAMPLE` of CPU time (not wall-clock time, which a busy machine
stretches) or allocates over `BYTES_PER_EXAMPLE` (tracemalloc's peak, which
numpy's and Python's allocations report to). The child also caps its whole address space, so memory
that tracemalloc cannot see (C libraries) still cannot run away.

    python -m tests.support.fuzzing tests.fuzz.targets_png --examples 200 [--seed N]

prints one JSON line per target: examples run, the slowest and the largest example.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import resource
import signal
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SECONDS_PER_EXAMPLE = 1.0
BYTES_PER_EXAMPLE = 256 * 2**20
ADDRESS_SPACE_HEADROOM = 1536 * 2**20


@dataclass(frozen=True)
class FuzzTarget:
    name: str
    strategy: Any  # a hypothesis SearchStrategy
    read: Callable[[Any], object]
    allowed: tuple[type[BaseException], ...] = ()


class ExampleTooSlow(Exception):
    pass


class ExampleTooLarge(Exception):
    pass


@dataclass
class Stats:
    examples: int = 0
    slowest_s: float = 0.0
    largest_bytes: int = 0
    slowest_example: str = ""
    largest_example: str = field(default="")

    def record(self, example: object, seconds: float, peak: int) -> None:
        self.examples += 1
        if seconds > self.slowest_s:
            self.slowest_s, self.slowest_example = seconds, _describe(example)
        if peak > self.largest_bytes:
            self.largest_bytes, self.largest_example = peak, _describe(example)


def _describe(example: object) -> str:
    text = repr(example)
    return text if len(text) <= 120 else f"{text[:100]}… ({len(text)} characters)"


def _on_alarm(_signum: int, _frame: object) -> None:
    raise ExampleTooSlow(f"the example ran over {SECONDS_PER_EXAMPLE} s of CPU time")


def run_bounded(target: FuzzTarget, example: object, stats: Stats) -> None:
    """Feed one example to the target's reader under the time and memory limits."""
    from sfumato.core.api import SfumatoError

    allowed: tuple[type[BaseException], ...] = (SfumatoError, *target.allowed)
    # Objects that exist before the example (Hypothesis's own, many) are left out of the garbage
    # collector's passes during it, which would otherwise be counted as the reader's time.
    gc.freeze()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    started = time.process_time()
    signal.setitimer(signal.ITIMER_PROF, SECONDS_PER_EXAMPLE)
    try:
        target.read(example)
    except allowed:
        pass
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        gc.unfreeze()
    seconds = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1] - baseline
    stats.record(example, seconds, peak)
    if peak > BYTES_PER_EXAMPLE:
        raise ExampleTooLarge(f"the example allocated {peak / 2**20:.0f} MiB")


def fuzz(target: FuzzTarget, examples: int, seed: int | None) -> Stats:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    stats = Stats()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=seed is None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
        # Not Phase.explain: it traces every line run, which makes a fast example look slow.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    )
    @given(target.strategy)
    def run(example: object) -> None:
        run_bounded(target, example, stats)

    if seed is not None:
        run = hypothesis_seed(seed)(run)
    run()
    return stats


def _cap_address_space() -> None:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    current = pages * resource.getpagesize()
    limit = current + ADDRESS_SPACE_HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("module")
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--only", default=None, help="run only the target with this name")
    args = parser.parse_args(argv)
    module = importlib.import_module(args.module)
    signal.signal(signal.SIGPROF, _on_alarm)
    if sys.platform.startswith("linux"):
        _cap_address_space()
    tracemalloc.start()
    for target in module.TARGETS:
        if args.only and target.name != args.only:
            continue
        stats = fuzz(target, args.examples, args.seed)
        print(json.dumps({"target": target.name, **stats.__dict__}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
