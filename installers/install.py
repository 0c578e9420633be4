"""Sfumato's installer, shared by install.sh (Linux, macOS) and install.ps1 (Windows).

The shell scripts only bring uv and a Python; this script checks the computer, picks the PyTorch
build for its GPU, installs from the lock file of that platform and backend into a fresh slot of
the prefix, checks that the result starts, and only then switches to it. A failed install or update
leaves the previous one in place. Only the standard library is used.

    install.py --prefix DIR [--torch auto|cuda|rocm|mps|cpu] [--source DIR|WHEEL] [--offline BUNDLE]
               [--yes] [--no-desktop]
    install.py --uninstall --prefix DIR [--purge]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LOCKS = HERE / "locks"
STATE = "install.json"
PYPI = "https://pypi.org/simple"
# Where each lock's torch comes from: PyPI, or PyTorch's own index for builds PyPI does not carry.
# SFUMATO_TORCH_INDEX_<NAME> points one at a mirror; empty means UV_FIND_LINKS and PyPI alone.
TORCH_SOURCES = {
    "linux-cpu": "CPU",
    "linux-cuda-legacy": "CU126",
    "linux-rocm": "ROCM",
    "windows-cuda": "CU130",
    "windows-cuda-legacy": "CU126",
}
TORCH_INDEXES = {
    "CPU": "https://download.pytorch.org/whl/cpu",
    "CU126": "https://download.pytorch.org/whl/cu126",
    "CU130": "https://download.pytorch.org/whl/cu130",
    "ROCM": "https://download.pytorch.org/whl/rocm6.4",
}
# Measured installed sizes, rounded up, plus room for uv's unpacking.
NEEDED_GB = {"cpu": 3, "mps": 3, "rocm": 20, "cuda": 10, "cuda-legacy": 10}
MODEL_NOTE = "Models come on top: about 2 GB each in half precision, 4 GB in full precision."


class InstallError(Exception):
    """A step failed in a way the person installing can act on; the message says how."""


def load_system_checks() -> ModuleType:
    """core/system, the torch-free checks `sfumato doctor` shares, loaded from the source tree."""
    folder = ROOT / "core" / "system"
    spec = importlib.util.spec_from_file_location(
        "sfumato_system", folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    if spec is None or spec.loader is None:
        raise InstallError(f"The installer is incomplete: {folder} is missing.")
    package = importlib.util.module_from_spec(spec)
    sys.modules["sfumato_system"] = package
    spec.loader.exec_module(package)
    for name in ("gpus", "qt_libraries", "storage"):
        setattr(package, name, importlib.import_module(f"sfumato_system.{name}"))
    return package


def this_system() -> str:
    return {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux")


def say(message: str) -> None:
    print(f"sfumato-install: {message}", flush=True)


# --- choosing the backend -------------------------------------------------------------------------


def choose_lock(
    torch: str, system: str, previous: dict[str, Any] | None, checks: ModuleType
) -> tuple[str, str]:
    """(backend, lock) for `--torch`; an update keeps the backend that was installed."""
    if torch == "auto" and previous:
        say(f"Keeping the installed PyTorch build: {previous['backend']} ({previous['lock']}).")
        return previous["backend"], previous["lock"]
    gpus = checks.gpus.detect_gpus(system, platform.machine())
    choice = checks.gpus.choose_backend(gpus, system, platform.machine())
    if torch == "auto":
        say(choice.reason)
        if choice.problem:
            say(choice.problem)
        return choice.backend, choice.lock
    if torch == "cpu":
        return "cpu", "macos" if system == "macos" else f"{system}-cpu"
    if torch == "mps":
        if system != "macos":
            raise InstallError("--torch mps is for Macs with Apple Silicon only.")
        return "mps", "macos"
    if torch == "rocm":
        if system != "linux":
            raise InstallError("--torch rocm is for Linux only: PyTorch has no ROCm build for this system.")
        return "rocm", "linux-rocm"
    if system == "macos":
        raise InstallError("--torch cuda is not available on a Mac: use --torch mps or auto.")
    # An explicit CUDA keeps the older build for an older GPU the detection found.
    backend = choice.backend if choice.backend.startswith("cuda") else "cuda"
    return backend, f"{system}-{backend}"


def lock_file(lock: str) -> Path:
    path = LOCKS / f"{lock}.txt"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in LOCKS.glob("*.txt")))
        raise InstallError(
            f"This release has no lock file for {lock} (it has: {available}). "
            "Run installers/compile_locks.sh where PyTorch's index is reachable, or choose --torch cpu."
        )
    return path


# --- checks before anything is downloaded ---------------------------------------------------------


def preflight(prefix: Path, backend: str, desktop: bool, checks: ModuleType) -> None:
    storage = checks.storage
    if not storage.writable(prefix):
        raise InstallError(
            f"Cannot write to {storage.existing_parent(prefix)}: "
            "choose another --prefix, or fix its permissions."
        )
    needed = NEEDED_GB.get(backend, 10) * storage.GIB
    free = storage.free_bytes(prefix)
    if free < needed:
        raise InstallError(
            f"{prefix} has {storage.gib(free)} free; the {backend} build needs about {storage.gib(needed)}. "
            f"Free some space or choose another --prefix. {MODEL_NOTE}"
        )
    say(f"Disk: {storage.gib(free)} free, about {storage.gib(needed)} needed. {MODEL_NOTE}")
    if desktop and this_system() == "linux":
        problem = checks.qt_libraries.problem_line()
        if problem:
            raise InstallError(
                f"{problem}. Then run the installer again (or add --no-desktop for the command line only)."
            )


# --- installing into a slot -----------------------------------------------------------------------


class Uv:
    def __init__(self, uv: str, offline: Path | None) -> None:
        self.uv = uv
        self.offline = offline

    def run(self, *args: str) -> None:
        command = [self.uv, *args]
        if subprocess.run(command, check=False).returncode != 0:
            raise InstallError(f"`{' '.join(command[:3])} …` failed (its message is above).")

    def sources(self, lock: str) -> list[str]:
        if self.offline is not None:
            return ["--offline", "--no-index", "--find-links", str(self.offline / "wheels")]
        arguments = ["--index-url", PYPI]
        name = TORCH_SOURCES.get(lock)
        if name:
            index = os.environ.get(f"SFUMATO_TORCH_INDEX_{name}", TORCH_INDEXES[name])
            if index:
                arguments += ["--extra-index-url", index, "--index-strategy", "unsafe-best-match"]
        return arguments


def env_python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if this_system() == "windows" else "bin/python")


def env_command(env: Path) -> Path:
    return env / ("Scripts/sfumato.exe" if this_system() == "windows" else "bin/sfumato")


def install_slot(uv: Uv, env: Path, python: str, lock: str, source: Path) -> None:
    shutil.rmtree(env, ignore_errors=True)
    uv.run("venv", "--quiet", "--python", python, str(env))
    target = ["--python", str(env_python(env))]
    uv.run("pip", "sync", "--require-hashes", *target, *uv.sources(lock), str(lock_file(lock)))
    uv.run(
        "pip",
        "install",
        "--no-deps",
        "--reinstall-package",
        "sfumato",
        *target,
        *uv.sources(lock),
        str(source),
    )


def verify_slot(env: Path, backend: str) -> None:
    """The new environment must start, and carry the GPU build that was asked for."""
    probe = (
        "import torch, PySide6.QtCore, sfumato.desktop.launcher;"
        f"gpu = {backend!r};"
        "assert gpu not in ('cuda', 'cuda-legacy') or torch.version.cuda,"
        " 'a CPU build of torch was installed';"
        "assert gpu != 'rocm' or torch.version.hip, 'a build of torch without ROCm was installed'"
    )
    for command in ([str(env_python(env)), "-c", probe], [str(env_command(env)), "--version"]):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise InstallError(f"The new installation does not start: {detail[0]}")


def find_source(given: str | None, offline: Path | None) -> Path:
    if given:
        source = Path(given).expanduser().resolve()
        if not (source / "pyproject.toml").is_file() and source.suffix != ".whl":
            raise InstallError(f"--source {given}: not a Sfumato checkout (no pyproject.toml) nor a wheel.")
        return source
    if offline is not None:
        wheels = sorted((offline / "wheels").glob("sfumato-*.whl"))
        if not wheels:
            raise InstallError(f"The bundle {offline} has no Sfumato wheel: build it again with bundle.sh.")
        return wheels[-1]
    if (ROOT / "pyproject.toml").is_file():
        return ROOT
    raise InstallError("Nothing to install: pass --source DIR|WHEEL or --offline BUNDLE.")


def read_state(prefix: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((prefix / STATE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def write_text_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, "utf-8")
    os.replace(temporary, path)


def write_launcher(prefix: Path) -> Path:
    """PREFIX/bin/sfumato, which runs whichever slot is current, so an update is one file's switch."""
    folder = prefix / "bin"
    folder.mkdir(parents=True, exist_ok=True)
    if this_system() == "windows":
        launcher = folder / "sfumato.cmd"
        launcher.write_text(
            f'@echo off\r\nset /p SLOT=<"{prefix}\\current"\r\n'
            f'"{prefix}\\envs\\%SLOT%\\Scripts\\sfumato.exe" %*\r\n',
            "utf-8",
        )
        return launcher
    launcher = folder / "sfumato"
    quoted = str(prefix).replace("'", "'\\''")
    launcher.write_text(
        f'#!/bin/sh\nprefix=\'{quoted}\'\nexec "$prefix/envs/$(cat "$prefix/current")/bin/sfumato" "$@"\n',
        "utf-8",
    )
    launcher.chmod(0o755)
    return launcher


def copy_installer(target: Path) -> None:
    """This installer and what it reads (the shared checks, the icon), laid out as in the checkout."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in (Path("installers"), Path("core") / "system", Path("resources") / "icons"):
        shutil.copytree(ROOT / part, target / part, ignore=skip)


def keep_installer(prefix: Path) -> None:
    """A copy of this installer in the prefix, for `--uninstall` and `sfumato update`."""
    target = prefix / "installer"
    if target.resolve() == ROOT:
        return  # this is the kept copy, run by `sfumato update`
    shutil.rmtree(target, ignore_errors=True)
    copy_installer(target)


def install(args: argparse.Namespace, checks: ModuleType) -> int:
    system = this_system()
    prefix = Path(args.prefix).expanduser().absolute()
    offline = Path(args.offline).resolve() if args.offline else None
    previous = read_state(prefix)
    backend, lock = choose_lock(args.torch, system, previous, checks)
    lock_file(lock)
    preflight(prefix, backend, not args.no_desktop, checks)
    source = find_source(args.source, offline)
    if not args.yes and sys.stdin.isatty():
        answer = input(f"Install Sfumato ({backend}) into {prefix}? [Y/n] ").strip().lower()
        if answer not in ("", "y", "yes"):
            return 1
    prefix.mkdir(parents=True, exist_ok=True)
    current = (previous or {}).get("slot")
    slot = "b" if current == "a" else "a"
    env = prefix / "envs" / slot
    say(f"{'Updating' if previous else 'Installing'} into {env} from {lock_file(lock).name}.")
    try:
        install_slot(Uv(args.uv, offline), env, args.python, lock, source)
        verify_slot(env, backend)
    except (InstallError, OSError) as error:
        shutil.rmtree(env, ignore_errors=True)
        if previous:
            say(
                f"The update failed; the previous installation ({previous['backend']}) "
                "is kept and still runs."
            )
        raise InstallError(str(error)) from error
    write_text_atomically(prefix / "current", slot)
    launcher = write_launcher(prefix)
    state: dict[str, Any] = {
        "backend": backend,
        "lock": lock,
        "slot": slot,
        "source": str(source),
        "system": system,
    }
    if offline is not None:
        state["offline"] = str(offline)
    keep_installer(prefix)
    if not args.no_desktop:
        state["desktop"] = integrate_desktop(prefix, launcher)
    write_text_atomically(prefix / STATE, json.dumps(state, indent=2))
    if current and current != slot:
        shutil.rmtree(prefix / "envs" / current, ignore_errors=True)
    say(f"Done. Start Sfumato from your applications menu or with: {launcher}")
    return 0


# --- desktop integration --------------------------------------------------------------------------


def integrate_desktop(prefix: Path, launcher: Path) -> list[str]:
    """Menu entry, icon, `.ora` association and a `sfumato` command; returns the files made."""
    icon = ROOT / "resources" / "icons" / "sfumato.svg"
    system = this_system()
    if system == "linux":
        return _integrate_linux(launcher, icon)
    if system == "macos":
        return _integrate_macos(launcher)
    return _integrate_windows(prefix, launcher)


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _integrate_linux(launcher: Path, icon: Path) -> list[str]:
    data = _data_home()
    made = []
    entry = data / "applications" / "sfumato.desktop"
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(
        "[Desktop Entry]\nType=Application\nName=Sfumato\nGenericName=Diffusion studio\n"
        "Comment=Paint and generate images with Stable Diffusion on your own computer\n"
        f'Exec="{launcher}" %f\nIcon=sfumato\nTerminal=false\n'
        "Categories=Graphics;2DGraphics;RasterGraphics;\n"
        "MimeType=image/openraster;\nStartupWMClass=sfumato\n",
        "utf-8",
    )
    made.append(str(entry))
    icon_target = data / "icons" / "hicolor" / "scalable" / "apps" / "sfumato.svg"
    icon_target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(icon, icon_target)
    made.append(str(icon_target))
    mime = data / "mime" / "packages" / "sfumato-openraster.xml"
    mime.parent.mkdir(parents=True, exist_ok=True)
    mime.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">\n'
        '  <mime-type type="image/openraster">\n    <comment>OpenRaster image</comment>\n'
        '    <glob pattern="*.ora"/>\n  </mime-type>\n</mime-info>\n',
        "utf-8",
    )
    made.append(str(mime))
    for tool, folder in (("update-mime-database", data / "mime"), ("update-desktop-database", entry.parent)):
        if shutil.which(tool):
            subprocess.run([tool, str(folder)], capture_output=True, check=False)
    if shutil.which("xdg-mime"):
        subprocess.run(
            ["xdg-mime", "default", "sfumato.desktop", "image/openraster"], capture_output=True, check=False
        )
    made.append(_command_on_path(launcher))
    return made


def _command_on_path(launcher: Path) -> str:
    link = Path.home() / ".local" / "bin" / "sfumato"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(launcher)
    if str(link.parent) not in os.environ.get("PATH", "").split(os.pathsep):
        say(f'{link.parent} is not on your PATH: add `export PATH="$HOME/.local/bin:$PATH"` to ~/.profile.')
    return str(link)


def _integrate_macos(launcher: Path) -> list[str]:
    app = Path.home() / "Applications" / "Sfumato.app"
    shutil.rmtree(app, ignore_errors=True)
    (app / "Contents" / "MacOS").mkdir(parents=True)
    (app / "Contents" / "Info.plist").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
        '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0"><dict>\n'
        "<key>CFBundleName</key><string>Sfumato</string>\n"
        "<key>CFBundleIdentifier</key><string>org.sfumato.Sfumato</string>\n"
        "<key>CFBundleExecutable</key><string>sfumato</string>\n"
        "<key>CFBundlePackageType</key><string>APPL</string>\n"
        "<key>LSMinimumSystemVersion</key><string>14.0</string>\n"
        "<key>CFBundleDocumentTypes</key><array><dict>\n"
        "<key>CFBundleTypeName</key><string>OpenRaster image</string>\n"
        "<key>CFBundleTypeExtensions</key><array><string>ora</string></array>\n"
        "<key>CFBundleTypeRole</key><string>Editor</string>\n</dict></array>\n</dict></plist>\n",
        "utf-8",
    )
    executable = app / "Contents" / "MacOS" / "sfumato"
    executable.write_text(f'#!/bin/sh\nexec "{launcher}" "$@"\n', "utf-8")
    executable.chmod(0o755)
    return [str(app), _command_on_path(launcher)]


def _integrate_windows(prefix: Path, launcher: Path) -> list[str]:
    winreg: Any = importlib.import_module("winreg")  # Windows only

    shortcut = (
        Path(os.environ["APPDATA"]) / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Sfumato.lnk"
    )
    script = (
        "$s = (New-Object -ComObject WScript.Shell).CreateShortcut($env:SFUMATO_LNK);"
        "$s.TargetPath = $env:SFUMATO_TARGET; $s.WindowStyle = 7; $s.Save()"
    )
    environment = {**os.environ, "SFUMATO_LNK": str(shortcut), "SFUMATO_TARGET": str(launcher)}
    subprocess.run(["powershell", "-NoProfile", "-Command", script], env=environment, check=False)
    key_path = r"Software\Microsoft\Windows\CurrentVersion\Uninstall\Sfumato"
    uninstall = (
        f'powershell -NoProfile -ExecutionPolicy Bypass -File "{prefix}\\installer\\installers\\install.ps1" '
        f'-Uninstall -Prefix "{prefix}"'
    )
    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, key_path) as key:
        for name, value in (
            ("DisplayName", "Sfumato"),
            ("Publisher", "Sfumato"),
            ("InstallLocation", str(prefix)),
            ("UninstallString", uninstall),
        ):
            winreg.SetValueEx(key, name, 0, winreg.REG_SZ, value)
        for name in ("NoModify", "NoRepair"):
            winreg.SetValueEx(key, name, 0, winreg.REG_DWORD, 1)
    say(f"To run `sfumato` in a terminal, add {launcher.parent} to your PATH.")
    return [str(shortcut), "registry:HKCU\\" + key_path]


# --- uninstall ------------------------------------------------------------------------------------


def uninstall(args: argparse.Namespace) -> int:
    prefix = Path(args.prefix).expanduser().absolute()
    state = read_state(prefix)
    if state is None:
        raise InstallError(f"No Sfumato installation in {prefix} (no {STATE}).")
    for made in state.get("desktop", []):
        _remove_desktop_file(made)
    shutil.rmtree(prefix, ignore_errors=True)
    say(f"Removed {prefix}. Your documents and models are kept (models live in the Hugging Face cache).")
    if args.purge:
        for folder in sfumato_folders():
            shutil.rmtree(folder, ignore_errors=True)
            say(f"Removed {folder}.")
    return 0


def _remove_desktop_file(made: str) -> None:
    if made.startswith("registry:"):
        winreg: Any = importlib.import_module("winreg")  # Windows only

        winreg.DeleteKey(winreg.HKEY_CURRENT_USER, made.removeprefix("registry:HKCU\\"))
        return
    path = Path(made)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.is_symlink() or path.exists():
        path.unlink()


def sfumato_folders() -> list[Path]:
    """Sfumato's own data, settings and cache folders (imported models, autosaves, logs)."""
    override = os.environ.get("SFUMATO_HOME")
    if override:
        return [Path(override)]
    system = this_system()
    home = Path.home()
    if system == "windows":
        local = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
        return [local / "Sfumato"]
    if system == "macos":
        return [home / "Library" / "Application Support" / "Sfumato", home / "Library" / "Caches" / "Sfumato"]
    return [
        Path(os.environ.get(variable) or home / default) / "sfumato"
        for variable, default in (
            ("XDG_DATA_HOME", ".local/share"),
            ("XDG_CONFIG_HOME", ".config"),
            ("XDG_CACHE_HOME", ".cache"),
        )
    ]


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="install", description="Install, update or remove Sfumato.")
    parser.add_argument("--prefix", required=True, help="the folder to install into")
    parser.add_argument("--torch", choices=("auto", "cuda", "rocm", "mps", "cpu"), default="auto")
    parser.add_argument("--source", help="a Sfumato checkout or wheel to install instead of the release's")
    parser.add_argument("--offline", help="a folder made by bundle.sh: install from it with no network")
    parser.add_argument("--yes", action="store_true", help="ask nothing")
    parser.add_argument("--no-desktop", action="store_true", help="no menu entry, for the command line only")
    parser.add_argument("--uninstall", action="store_true", help="remove the installation in --prefix")
    parser.add_argument(
        "--purge",
        action="store_true",
        help="with --uninstall: also Sfumato's own folders (settings, autosaves, imported models)",
    )
    parser.add_argument("--uv", default="uv", help=argparse.SUPPRESS)
    parser.add_argument("--python", default=sys.executable, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        if args.uninstall:
            return uninstall(args)
        return install(args, load_system_checks())
    except InstallError as error:
        print(f"sfumato-install: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sfumato-install: stopped; nothing was changed.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
