"""Gather everything an offline install needs for one platform into one folder (or .tar.gz):
the lock's wheels, checked against its hashes, Sfumato's own wheel, uv, and the installer.

    bundle.py --platform linux-cpu|linux-cuda|macos|windows-cpu|... [--out DIR] [--archive]

Run it where PyPI (and, for some platforms, PyTorch's index) is reachable; it uses this Python's pip.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

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
