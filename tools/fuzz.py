"""Fuzz every reader of outside data for longer than the test suite does, with a fresh random seed.

    python tools/fuzz.py [--examples 2000] [--seed N] [--only png]

Each tests/fuzz/targets_*.py module runs in a child process under the harness's limits
(tests/support/fuzzing.py: 1 s and 256 MiB an example). For every target this prints how many
examples ran, the slowest and the largest; a failing example is printed with its seed, so that
`--seed N` finds it again. The exit code is 1 when any target failed.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUZZ_FOLDER = ROOT / "tests" / "fuzz"
BATCH = 1000


def target_modules(only: str | None) -> list[str]:
    names = sorted(path.stem for path in FUZZ_FOLDER.glob("targets_*.py"))
    return [name for name in names if only is None or only in name]


def run_module(module: str, examples: int, seed: int) -> tuple[list[dict[str, object]], str | None]:
    """The reports of a module's targets, and its output when it failed.

    The examples run in batches, each in a fresh child with a seed of its own: Hypothesis keeps
    every example's choices, so one child running them all would grow to gigabytes."""
    merged: dict[str, dict[str, object]] = {}
    for batch, start in enumerate(range(0, examples, BATCH)):
        command = [sys.executable, "-m", "tests.support.fuzzing", f"tests.fuzz.{module}"]
        command += ["--examples", str(min(BATCH, examples - start)), "--seed", str(seed + batch)]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        for line in result.stdout.splitlines():
            if line.startswith("{"):
                _merge(merged, json.loads(line))
        if result.returncode != 0:
            return list(merged.values()), f"(seed {seed + batch})\n" + (result.stdout + result.stderr)[-6000:]
    return list(merged.values()), None


def _merge(merged: dict[str, dict[str, object]], report: dict[str, object]) -> None:
    name = str(report["target"])
    if name not in merged:
        merged[name] = report
        return
    total = merged[name]
    total["examples"] = int(str(total["examples"])) + int(str(report["examples"]))
    for measure, example in (("slowest_s", "slowest_example"), ("largest_bytes", "largest_example")):
        if float(str(report[measure])) > float(str(total[measure])):
            total[measure], total[example] = report[measure], report[example]


def describe(report: dict[str, object]) -> str:
    slowest = float(str(report["slowest_s"]))
    largest = int(str(report["largest_bytes"]))
    return (
        f"{report['target']}: {report['examples']} examples\n"
        f"    slowest {slowest * 1000:.1f} ms: {report['slowest_example']}\n"
        f"    largest {largest / 2**20:.2f} MiB: {report['largest_example']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=2000, help="examples per target (default 2000)")
    parser.add_argument("--seed", type=int, default=None, help="default: a random one, printed")
    parser.add_argument("--only", default=None, help="only the modules whose name holds this text")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    print(f"seed {seed}, {args.examples} examples per target", flush=True)
    failed = False
    for module in target_modules(args.only):
        started = time.monotonic()
        reports, failure = run_module(module, args.examples, seed)
        print(f"{module} ({time.monotonic() - started:.0f} s)", flush=True)
        for report in reports:
            print("  " + describe(report), flush=True)
        if failure is not None:
            failed = True
            print(f"  FAILED {failure}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
