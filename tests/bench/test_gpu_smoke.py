"""The GPU benchmark runs on the CPU at a tiny size and reports every measurement it promises. Timings
are not asserted (they depend on the machine); what must hold is that each figure is there and usable.
Launch to first image (an engine process start) and the compiled profile are left out to stay fast."""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench.gpu import main
from sfumato.core.memory_tiers import LADDER


def test_a_tiny_run_reports_profiles_tier_peaks_batching_and_previews(tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    argv = "--model tiny --device cpu --size 64 --sizes 64 --steps 2 --repeats 1 --warmup 0 --threads 1"
    results = main([*argv.split(), "--skip-fast", "--skip-launch", "--json", str(out)])

    assert json.loads(out.read_text("utf-8")) == results
    assert results["device"]["dtype"] == "float32"  # the precision the engine runs in on the CPU
    assert set(results["profiles"]["s_per_step"]) == {"plain", "default"}
    assert math.isfinite(results["profiles"]["ratio_to_plain"]["default"]["ratio"])
    peaks = results["peak_bytes_per_tier"]
    assert list(peaks) == [tier.value for tier in LADDER]
    assert all(peaks[tier]["64"] > 0 for tier in peaks)
    assert peaks["high"]["64"] >= peaks["minimal"]["64"]
    assert results["batch"]["speedup"]["ratio"] > 0
    assert results["previews"]["fraction_of_a_step"] >= 0
