"""`sfumato doctor` finds what stops or slows generation and says how to fix it, one line each."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sfumato.core import doctor
from sfumato.core.system import gpus, qt_libraries

RECORDED = Path(__file__).parent / "recorded"


def test_a_cpu_torch_beside_an_nvidia_gpu_is_reported_with_the_reinstall() -> None:
    found = gpus.parse_nvidia_smi((RECORDED / "nvidia-smi-pascal.csv").read_text())
    finding = doctor.check_torch_gpu(found)
    assert finding.severity is doctor.Severity.WARNING
    assert "GTX 1070" in finding.line() and "CPU build" in finding.line() and "--torch cuda" in finding.line()


def test_a_cpu_torch_with_no_gpu_is_fine() -> None:
    assert doctor.check_torch_gpu([]).severity is doctor.Severity.OK


@pytest.mark.parametrize(
    ("capability", "arch_list", "runs"),
    [
        ((8, 6), ["sm_75", "sm_80", "sm_86", "sm_90"], True),
        ((8, 9), ["sm_80", "sm_86"], True),  # same major, newer minor: the sm_86 binary runs
        ((6, 1), ["sm_75", "sm_80", "sm_90", "sm_100", "sm_120"], False),  # Pascal on a CUDA 13 build
        ((12, 0), ["sm_90", "compute_90"], True),  # PTX compiles for newer GPUs
        ((7, 0), ["sm_75", "compute_75"], False),
    ],
)
def test_a_build_without_kernels_for_the_gpu_is_told_apart(
    capability: tuple[int, int], arch_list: list[str], runs: bool
) -> None:
    assert doctor.has_kernels_for(capability, arch_list) is runs


def test_missing_qt_libraries_block_with_the_command_that_installs_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    installed = set(qt_libraries.QT_XCB_LIBRARIES) - {"libxcb-cursor.so.0"}
    finding = qt_libraries.finding(installed)
    assert finding is not None and finding.severity is doctor.Severity.PROBLEM
    assert "libxcb-cursor.so.0" in finding.line() and "Fix: sudo" in finding.line()


def test_a_folder_that_cannot_be_written_blocks(tmp_path: Path) -> None:
    afile = tmp_path / "a-file"
    afile.write_text("not a folder")
    finding = doctor.check_writable([tmp_path, afile / "models"])
    assert finding.severity is doctor.Severity.PROBLEM and str(afile / "models") in finding.line()
    assert doctor.check_writable([tmp_path]).severity is doctor.Severity.OK


def test_the_disk_check_names_the_model_cache_and_its_free_space(tmp_path: Path) -> None:
    finding = doctor.check_disk(tmp_path / "hub")
    assert str(tmp_path / "hub") in finding.line() and "GB free" in finding.line()


def run_doctor(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "SFUMATO_HOME": str(tmp_path / "home"),
        "HF_HOME": str(tmp_path / "hf"),
        "QT_QPA_PLATFORM": "offscreen",
        **extra,
    }
    command = [sys.executable, "-m", "sfumato.desktop.launcher", "doctor"]
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=120)


def test_sfumato_doctor_prints_a_line_per_check_and_succeeds_on_a_working_setup(tmp_path: Path) -> None:
    result = run_doctor(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    topics = [line.split("]", 1)[1].split(":", 1)[0].strip() for line in result.stdout.splitlines()]
    assert {"GPU", "Qt libraries", "Disk", "Folders", "ffmpeg", "Models"} <= set(topics)
    assert "Models: 1 installed, all complete." in result.stdout  # the built-in demo model


def test_sfumato_doctor_fails_when_the_model_cache_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    result = run_doctor(tmp_path, HF_HUB_CACHE=str(blocker / "hub"))
    assert result.returncode == 1
    assert f"[problem] Folders: cannot write to {blocker / 'hub'}" in result.stdout
