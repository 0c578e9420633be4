"""The installers' lock files agree with pyproject.toml, pin every package with hashes, and keep
each install as small as it can be (no torchvision anywhere, no CUDA libraries in a CPU install)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCKS = sorted((ROOT / "installers" / "locks").glob("*.txt"))
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def pins(lock: Path) -> dict[str, Version]:
    text = lock.read_text("utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text)
    pinned: dict[str, Version] = {}
    for entry in entries:
        match = PIN.match(entry.strip())
        if match:
            assert "--hash=sha256:" in entry, f"{lock.name}: {match[1]} has no hash"
            pinned[canonicalize_name(match[1])] = Version(match[2])
    return pinned


def versions_env() -> dict[str, str]:
    text = (ROOT / "installers" / "versions.env").read_text("utf-8")
    return dict(re.findall(r"^(\w+)=(.*)$", text, re.MULTILINE))


def test_every_platform_the_installers_name_first_has_a_lock() -> None:
    names = {lock.stem for lock in LOCKS}
    assert {"linux-cpu", "linux-cuda", "macos", "windows-cpu"} <= names


@pytest.mark.parametrize("lock", LOCKS, ids=lambda path: path.stem)
def test_each_lock_satisfies_every_dependency_of_pyproject(lock: Path) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    pinned = pins(lock)
    for line in project["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{lock.name} lacks {name}: run installers/compile_locks.sh"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock.name} pins {name}=={pinned[name]}, outside {requirement.specifier}: "
            "run installers/compile_locks.sh"
        )


@pytest.mark.parametrize("lock", LOCKS, ids=lambda path: path.stem)
def test_each_lock_has_the_one_torch_release_and_nothing_unused(lock: Path) -> None:
    pinned = pins(lock)
    assert pinned["torch"].base_version == versions_env()["TORCH_VERSION"]
    assert "torchvision" not in pinned and "torchaudio" not in pinned
    if lock.stem.endswith("-cpu") or lock.stem == "macos":
        gpu_libraries = [name for name in pinned if name.startswith(("nvidia-", "cuda-", "triton"))]
        assert gpu_libraries == [], f"{lock.name} would install GPU libraries it cannot use"


def test_the_installer_knows_where_each_locks_torch_comes_from() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("install", ROOT / "installers" / "install.py")
    assert spec and spec.loader
    install = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(install)
    for lock in LOCKS:
        if "+" in str(pins(lock)["torch"]):  # a local build tag: only PyTorch's own index has it
            assert lock.stem in install.TORCH_SOURCES
