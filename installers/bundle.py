"""Gather everything an offline install needs for one platform into one folder (or .tar.gz):
the lock's wheels, checked against its hashes, Sfumato's own wheel, uv, uv's Python build for the
platform (where its download is reachable), and the installer.

    bundle.py --platform linux-cpu|linux-cuda|macos|windows-cpu|... [--out DIR] [--archive]

Run it where PyPI (and, for some platforms, PyTorch's index) is reachable; it uses this Python's pip.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from install import LOCKS, ROOT, TORCH_INDEXES, TORCH_SOURCES, InstallError, copy_installer, lock_file

HERE = Path(__file__).resolve().parent
# pip's --platform tags for each lock, every older tag spelled out: pip does not infer them.
_MACOS_VERSIONS = ["14_0", "13_0", "12_0", "11_0"] + [f"10_{minor}" for minor in range(15, 8, -1)]
PLATFORM_TAGS = {
    "linux": [f"manylinux_2_{minor}_x86_64" for minor in range(34, 4, -1)]
    + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"],
    "macos": [f"macosx_{version}_{arch}" for version in _MACOS_VERSIONS for arch in ("arm64", "universal2")],
    "windows": ["win_amd64"],
}
UV_KEYS = {"linux": "UV_LINUX_X86_64", "macos": "UV_MACOS_ARM64", "windows": "UV_WINDOWS_AMD64"}
# uv's name for each bundle's system: (os, arch, libc) in `uv python list --output-format json`.
PYTHON_BUILDS = {
    "linux": ("linux", "x86_64", "gnu"),
    "macos": ("macos", "aarch64", "none"),
    "windows": ("windows", "x86_64", "none"),
}
# The install scripts point UV_PYTHON_INSTALL_MIRROR here; uv then asks for MIRROR/<release>/<file>.
PYTHON_MIRROR = "python-mirror"


def versions() -> dict[str, str]:
    return dict(re.findall(r"^(\w+)=(.*)$", (HERE / "versions.env").read_text("utf-8"), re.MULTILINE))


def pip_download(arguments: list[str], platform: str, folder: Path) -> None:
    tags = [flag for tag in PLATFORM_TAGS[platform.split("-")[0]] for flag in ("--platform", tag)]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    python = versions()["PYTHON_VERSION"]
    abis = ["--abi", f"cp{python.replace('.', '')}", "--abi", "abi3", "--abi", "none"]
    command += [*tags, *abis, "--python-version", python, "--implementation", "cp"]
    if subprocess.run([*command, "-d", str(folder), *arguments], check=False).returncode != 0:
        raise InstallError("pip could not download the wheels (its message is above).")


def torch_index(platform: str) -> list[str]:
    name = TORCH_SOURCES.get(platform)
    if name is None:
        return []
    index = os.environ.get(f"SFUMATO_TORCH_INDEX_{name}", TORCH_INDEXES[name])
    return ["--extra-index-url", index] if index else []


def python_download(listing: list[dict[str, Any]], platform: str) -> tuple[str, str]:
    """(url, path inside the mirror) of uv's CPython build for the bundle's platform."""
    system, arch, libc = PYTHON_BUILDS[platform.split("-")[0]]
    builds = [
        entry
        for entry in listing
        if (entry["implementation"], entry["variant"]) == ("cpython", "default")
        and (entry["os"], entry["arch"], entry["libc"]) == (system, arch, libc)
        and entry["url"]
    ]
    if not builds:
        raise InstallError(f"uv lists no CPython build for {system} {arch}.")
    newest = max(builds, key=lambda entry: tuple(entry["version_parts"].values()))
    url = newest["url"]
    # The mirror replaces what comes before the release folder; the file name is unquoted (`+`).
    release, name = urllib.parse.urlsplit(url).path.split("/")[-2:]
    return url, f"{release}/{urllib.parse.unquote(name)}"


def host_uv(scratch: Path) -> Path:
    """A uv of the installers' version that runs here, to ask it which Python build it installs."""
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    command += ["-d", str(scratch), f"uv=={versions()['UV_VERSION']}"]
    if subprocess.run(command, check=False).returncode != 0:
        raise InstallError("pip could not download uv for this computer (its message is above).")
    wheel = next(scratch.glob("uv-*.whl"))
    shutil.unpack_archive(wheel, scratch, "zip")
    uv = next(path for path in scratch.glob("*.data/scripts/uv*") if path.stem == "uv")
    uv.chmod(0o755)
    return uv


def add_python(platform: str, out: Path) -> None:
    """uv's Python build for the platform, laid out as a mirror; without one the installer uses the
    target computer's own Python, so an unreachable download is said and skipped."""
    with tempfile.TemporaryDirectory() as scratch:
        uv = host_uv(Path(scratch))
        python = versions()["PYTHON_VERSION"]
        query = ["python", "list", python, "--all-platforms", "--all-arches", "--only-downloads"]
        listing = subprocess.run(
            [str(uv), *query, "--output-format", "json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    url, inside = python_download(json.loads(listing), platform)
    target = out / PYTHON_MIRROR / inside
    target.parent.mkdir(parents=True)
    try:
        with urllib.request.urlopen(url, timeout=60) as response, target.open("wb") as file:
            shutil.copyfileobj(response, file)
    except (OSError, urllib.error.URLError) as error:
        shutil.rmtree(out / PYTHON_MIRROR)
        print(
            f"bundle: no Python build in the bundle ({url} is out of reach: {error}); "
            f"the installer will use the target computer's Python {python}.",
            flush=True,
        )


def bundle(platform: str, out: Path) -> Path:
    lock = lock_file(platform)
    shutil.rmtree(out, ignore_errors=True)
    wheels = out / "wheels"
    wheels.mkdir(parents=True)
    print(f"bundle: the wheels of {lock.name}", flush=True)
    pip_download(["--require-hashes", "-r", str(lock), *torch_index(platform)], platform, wheels)
    print("bundle: Sfumato's wheel", flush=True)
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT)]
    if subprocess.run(command, check=False).returncode != 0:
        raise InstallError("Sfumato's wheel could not be built (the message is above).")
    url, digest = versions()[UV_KEYS[platform.split("-")[0]]].split()
    requirement = out / "uv-requirement.txt"
    requirement.write_text(f"uv=={versions()['UV_VERSION']} --hash=sha256:{digest}\n", "utf-8")
    print("bundle: uv", flush=True)
    pip_download(["--require-hashes", "-r", str(requirement)], platform, out / "uv")
    requirement.unlink()
    if not (out / "uv" / url.rsplit("/", 1)[1]).is_file():
        raise InstallError(f"pip fetched another uv file than {url.rsplit('/', 1)[1]}.")
    print("bundle: uv's Python build", flush=True)
    add_python(platform, out)
    copy_installer(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bundle.sh", description="Make an offline install bundle.")
    parser.add_argument(
        "--platform", required=True, choices=sorted(path.stem for path in LOCKS.glob("*.txt"))
    )
    parser.add_argument("--out", help="the folder to make (default: sfumato-PLATFORM next to the checkout)")
    parser.add_argument(
        "--archive",
        action="store_true",
        help="also pack the folder into FOLDER.tar (wheels are compressed already)",
    )
    args = parser.parse_args(argv)
    out = Path(args.out or ROOT.parent / f"sfumato-{args.platform}").absolute()
    try:
        bundle(args.platform, out)
    except InstallError as error:
        print(f"bundle: error: {error}", file=sys.stderr)
        return 1
    if args.archive:
        with tarfile.open(f"{out}.tar", "w") as archive:
            archive.add(out, arcname=out.name)
        print(f"bundle: {out}.tar")
    size = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    print(f"bundle: {out} ({size / 1024**3:.1f} GB).")
    print(f"Install it with: {out}/installers/install.sh --offline {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
