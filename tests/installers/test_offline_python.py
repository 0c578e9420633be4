"""An offline bundle carries uv's Python build as a mirror laid out as uv asks for it, and install.sh
installs from it with no network; without one, the installer says in one line that it falls back to
the computer's own Python. No network is used: uv's download is replaced by a file in the bundle."""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALLERS = ROOT / "installers"
RECORDED = Path(__file__).parent / "recorded" / "uv-python-list-3.11.json"


def versions() -> dict[str, str]:
    return dict(re.findall(r"^(\w+)=(.*)$", (INSTALLERS / "versions.env").read_text("utf-8"), re.MULTILINE))


@pytest.fixture
def bundle_py(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(INSTALLERS))
    return importlib.import_module("bundle")


@pytest.mark.parametrize(
    ("platform", "build"),
    [
        ("linux-cpu", "x86_64-unknown-linux-gnu"),
        ("linux-cuda", "x86_64-unknown-linux-gnu"),
        ("macos", "aarch64-apple-darwin"),
        ("windows-cpu", "x86_64-pc-windows-msvc"),
    ],
)
def test_each_bundle_takes_the_plain_cpython_build_of_its_system(
    bundle_py: ModuleType, platform: str, build: str
) -> None:
    listing = json.loads(RECORDED.read_text("utf-8"))
    url, inside = bundle_py.python_download(listing, platform)
    assert url.endswith(f"{build}-install_only_stripped.tar.gz"), url
    release, name = inside.split("/")
    assert release.isdigit() and name == f"cpython-3.11.18+{release}-{build}-install_only_stripped.tar.gz"


def installers_uv() -> str:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed (it is a dev dependency): the offline Python was not checked")
    version = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True).stdout.split()[1]
    if version != versions()["UV_VERSION"]:
        pytest.skip(f"uv {version} is not the installers' uv {versions()['UV_VERSION']}")
    return uv


def run_offline_install(tmp_path: Path, bundle: Path) -> str:
    """install.sh --offline with the installers' uv already in the prefix; returns what it said."""
    prefix = tmp_path / "prefix"
    (prefix / "uv").mkdir(parents=True)
    shutil.copy(installers_uv(), prefix / "uv" / "uv")
    (bundle / "wheels").mkdir(parents=True, exist_ok=True)
    home = tmp_path / "home"
    home.mkdir()
    environment = {**os.environ, "HOME": str(home), "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    command = ["bash", str(INSTALLERS / "install.sh"), "--prefix", str(prefix), "--offline", str(bundle)]
    done = subprocess.run(
        [*command, "--torch", "cpu", "--yes", "--no-desktop"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert not list((prefix / "python").glob("cpython-*")), "a damaged Python build was installed"
    return done.stdout + done.stderr


def test_the_bundles_python_is_what_uv_installs_offline(bundle_py: ModuleType, tmp_path: Path) -> None:
    uv = installers_uv()
    query = ["python", "list", versions()["PYTHON_VERSION"], "--all-platforms", "--all-arches"]
    listing = subprocess.run(
        [uv, *query, "--only-downloads", "--output-format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    _url, inside = bundle_py.python_download(json.loads(listing), "linux-cpu")
    bundle = tmp_path / "bundle with a space"
    archive = bundle / bundle_py.PYTHON_MIRROR / inside
    archive.parent.mkdir(parents=True)
    # Not uv's build: uv must find this file where the bundle put it, and refuse it by its checksum.
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(INSTALLERS / "versions.env", arcname="python/README")
    said = run_offline_install(tmp_path, bundle)
    assert "uv could not install its Python 3.11: Hash mismatch for `cpython-3.11" in said, said
    fallback = [line for line in said.splitlines() if "Hash mismatch" in line]
    assert len(fallback) == 1 and (
        "using this system's Python 3.11: " in fallback[0] or "this system has none" in fallback[0]
    )


def test_a_bundle_without_python_says_it_uses_the_systems_in_one_line(tmp_path: Path) -> None:
    said = run_offline_install(tmp_path, tmp_path / "bundle")
    lines = [line for line in said.splitlines() if "the bundle carries no Python build" in line]
    assert len(lines) == 1, said
    assert "using this system's Python 3.11: " in lines[0] or "this system has none" in lines[0]


def test_the_dev_environments_uv_is_the_installers() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    dev = project["optional-dependencies"]["dev"]
    assert f"uv=={versions()['UV_VERSION']}" in dev, "pin uv in pyproject's dev extra as in versions.env"
