"""Choosing the PyTorch build from what the vendors' tools print, as recorded on real machines."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from sfumato.core.system import gpus

RECORDED = Path(__file__).parent / "recorded"


def tools(**outputs: str | None) -> gpus.Runner:
    """A runner answering each tool with a recorded output file; a tool not named is not installed."""
    by_command = {
        gpus.NVIDIA_SMI_QUERY: outputs.get("nvidia_smi"),
        gpus.ROCMINFO: outputs.get("rocminfo"),
        gpus.LSPCI: outputs.get("lspci"),
        gpus.SYSCTL_CPU: outputs.get("sysctl"),
    }

    def run(command: Sequence[str]) -> str | None:
        recorded = by_command.get(tuple(command))
        if recorded is None:
            return None
        return (RECORDED / recorded).read_text() if recorded.endswith((".csv", ".txt")) else recorded

    return run


def choose(system: str = "linux", machine: str = "x86_64", **outputs: str | None) -> gpus.BackendChoice:
    return gpus.choose_backend(gpus.detect_gpus(system, machine, tools(**outputs)), system, machine)


def test_several_nvidia_gpus_are_all_found_and_the_newest_chooses_the_build() -> None:
    found = gpus.parse_nvidia_smi((RECORDED / "nvidia-smi-two-gpus.csv").read_text())
    assert [(gpu.name, gpu.compute_capability) for gpu in found] == [
        ("NVIDIA GeForce RTX 4090", (8, 9)),
        ("NVIDIA GeForce GTX 1080 Ti", (6, 1)),
    ]
    assert found[0].driver_version == "580.95.05" and found[0].memory_mb == 24564
    choice = choose(nvidia_smi="nvidia-smi-two-gpus.csv")
    assert (choice.backend, choice.lock, choice.problem) == ("cuda", "linux-cuda", None)
    assert "RTX 4090" in choice.reason


def test_a_pascal_gpu_gets_the_older_cuda_build_that_still_has_its_kernels() -> None:
    choice = choose(nvidia_smi="nvidia-smi-pascal.csv")
    assert (choice.backend, choice.lock) == ("cuda-legacy", "linux-cuda-legacy")
    assert "CUDA 12.6" in choice.reason


def test_a_new_gpu_on_a_driver_too_old_for_cuda_13_gets_the_cuda_12_build() -> None:
    choice = choose(nvidia_smi="nvidia-smi-ampere-driver-535.csv")
    assert choice.backend == "cuda-legacy" and choice.problem is None


def test_a_driver_too_old_for_every_build_names_the_minimum_version() -> None:
    choice = choose(nvidia_smi="nvidia-smi-driver-470.csv")
    assert choice.backend == "cpu"
    assert choice.problem is not None
    assert "470.256.02 is too old" in choice.problem and "525.60.13 or newer" in choice.problem
    windows = choose("windows", nvidia_smi="nvidia-smi-driver-470.csv")
    assert windows.lock == "windows-cpu" and windows.problem and "528.33 or newer" in windows.problem


def test_a_gpu_older_than_any_build_falls_back_to_the_cpu_and_says_why() -> None:
    choice = choose(nvidia_smi="nvidia-smi-kepler.csv")
    assert (
        choice.backend == "cpu" and choice.problem and "older than any GPU PyTorch supports" in choice.problem
    )


def test_a_driver_that_cannot_report_the_compute_capability_still_reads_its_version() -> None:
    (gpu,) = gpus.parse_nvidia_smi((RECORDED / "nvidia-smi-old-driver-no-compute-cap.csv").read_text())
    assert gpu.compute_capability is None and gpu.driver_version == "450.248.02"
    choice = gpus.choose_backend([gpu], "linux", "x86_64")
    assert choice.backend == "cpu" and choice.problem and "525.60.13 or newer" in choice.problem


def test_no_gpu_and_no_tools_means_the_cpu_build() -> None:
    choice = choose()
    assert (choice.backend, choice.lock, choice.problem) == ("cpu", "linux-cpu", None)
    assert "No NVIDIA or AMD GPU" in choice.reason


def test_an_intel_gpu_alone_means_the_cpu_build() -> None:
    choice = choose(lspci="lspci-intel-only.txt")
    assert choice.backend == "cpu" and "AlderLake-S GT1" in choice.reason


def test_an_nvidia_card_without_its_driver_is_seen_by_lspci_and_asks_for_the_driver() -> None:
    choice = choose(lspci="lspci-nvidia-3d.txt")
    assert choice.backend == "cpu"
    assert choice.problem and "GeForce RTX 3050 Mobile" in choice.problem and "580.65.06" in choice.problem


def test_rocminfo_finds_the_amd_gpu_and_not_the_cpu_agent() -> None:
    found = gpus.parse_rocminfo((RECORDED / "rocminfo-rx7900.txt").read_text())
    assert [(gpu.name, gpu.architecture) for gpu in found] == [("Radeon RX 7900 XTX", "gfx1100")]
    choice = choose(rocminfo="rocminfo-rx7900.txt", lspci="lspci-intel-and-amd.txt")
    assert (choice.backend, choice.lock) == ("rocm", "linux-rocm")


def test_an_amd_card_without_rocm_asks_for_rocm() -> None:
    choice = choose(lspci="lspci-intel-and-amd.txt")
    assert choice.backend == "cpu" and choice.problem and "install AMD's ROCm" in choice.problem


@pytest.mark.parametrize(
    ("machine", "brand", "backend", "problem"),
    [("arm64", "Apple M2 Pro", "mps", False), ("x86_64", "Intel(R) Core(TM) i9-9980HK", "cpu", True)],
)
def test_a_mac_uses_metal_on_apple_silicon_and_explains_an_intel_mac(
    machine: str, brand: str, backend: str, problem: bool
) -> None:
    choice = choose("macos", machine, sysctl=brand)
    assert choice.backend == backend and choice.lock == "macos"
    assert (choice.problem is not None) is problem


def test_windows_gets_the_windows_locks() -> None:
    assert choose("windows", nvidia_smi="nvidia-smi-two-gpus.csv").lock == "windows-cuda"
    assert choose("windows").lock == "windows-cpu"
