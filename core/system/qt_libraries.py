"""The system libraries Qt's X11 (xcb) platform plugin loads, which the PySide6 wheel does not ship.

Without one of them Qt prints "Could not load the Qt platform plugin xcb" and aborts. Finding them
first lets the installer, `sfumato doctor` and the launcher name what is missing and how to get it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .findings import Finding, Severity


@dataclass(frozen=True)
class SystemPackage:
    apt: str
    dnf: str
    pacman: str


# soname -> the package that provides it on Debian/Ubuntu, Fedora and Arch.
QT_XCB_LIBRARIES: Mapping[str, SystemPackage] = {
    "libxcb.so.1": SystemPackage("libxcb1", "libxcb", "libxcb"),
    "libX11-xcb.so.1": SystemPackage("libx11-xcb1", "libX11-xcb", "libx11"),
    "libxcb-cursor.so.0": SystemPackage("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm.so.4": SystemPackage("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-keysyms.so.1": SystemPackage("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-image.so.0": SystemPackage("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-render-util.so.0": SystemPackage(
        "libxcb-render-util0", "xcb-util-renderutil", "xcb-util-renderutil"
    ),
    "libxcb-randr.so.0": SystemPackage("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-shape.so.0": SystemPackage("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-xkb.so.1": SystemPackage("libxcb-xkb1", "libxcb", "libxcb"),
    "libxkbcommon.so.0": SystemPackage("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libxkbcommon-x11.so.0": SystemPackage("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libfontconfig.so.1": SystemPackage("libfontconfig1", "fontconfig", "fontconfig"),
    "libEGL.so.1": SystemPackage("libegl1", "libglvnd-egl", "libglvnd"),
    "libGL.so.1": SystemPackage("libgl1", "libglvnd-glx", "libglvnd"),
    "libdbus-1.so.3": SystemPackage("libdbus-1-3", "dbus-libs", "dbus"),
}

_LIBRARY_FOLDERS = (
    "/lib",
    "/lib64",
    "/usr/lib",
    "/usr/lib64",
    "/usr/local/lib",
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
)


def uses_xcb(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether Qt would start on X11 here: Linux, no other platform asked for, no Wayland session."""
    environ = os.environ if environ is None else environ
    if not (platform or sys.platform).startswith("linux"):
        return False
    asked = environ.get("QT_QPA_PLATFORM", "").strip()
    if asked:
        return asked.split(";")[0].split(":")[0] == "xcb"
    return not environ.get("WAYLAND_DISPLAY")


def installed_sonames(ldconfig_output: str | None = None, folders: Iterable[str] | None = None) -> set[str]:
    """The shared libraries the dynamic loader can find: its cache, LD_LIBRARY_PATH and the usual folders."""
    if ldconfig_output is None:
        ldconfig_output = _ldconfig_listing()
    names = set(re.findall(r"^\s*(\S+\.so[.\d]*)\s", ldconfig_output, re.MULTILINE))
    search = list(folders) if folders is not None else _search_folders()
    for folder in search:
        try:
            names.update(entry.name for entry in Path(folder).iterdir() if ".so" in entry.name)
        except OSError:
            continue
    return names


def missing_libraries(
    required: Mapping[str, SystemPackage] | None = None, installed: set[str] | None = None
) -> list[str]:
    """The sonames in `required` (default: Qt's xcb libraries) that this system lacks, in the order listed."""
    found = installed_sonames() if installed is None else installed
    return [name for name in required or QT_XCB_LIBRARIES if name not in found]


def package_manager(os_release: str | None = None) -> str:
    """ "apt", "dnf" or "pacman", from /etc/os-release (apt when it cannot tell)."""
    if os_release is None:
        try:
            os_release = Path("/etc/os-release").read_text("utf-8", errors="replace")
        except OSError:
            os_release = ""
    ids = " ".join(re.findall(r"^(?:ID|ID_LIKE)=\"?([^\"\n]*)", os_release, re.MULTILINE)).split()
    if any(name in ("fedora", "rhel", "centos", "rocky", "almalinux", "opensuse") for name in ids):
        return "dnf"
    if any(name in ("arch", "manjaro", "endeavouros") for name in ids):
        return "pacman"
    return "apt"


def install_command(
    missing: Iterable[str], manager: str, required: Mapping[str, SystemPackage] | None = None
) -> str:
    required = required or QT_XCB_LIBRARIES
    packages = sorted({getattr(required[name], manager) for name in missing})
    verb = {"apt": "sudo apt install", "dnf": "sudo dnf install", "pacman": "sudo pacman -S"}[manager]
    return f"{verb} {' '.join(packages)}"


def problem_line(
    required: Mapping[str, SystemPackage] | None = None, installed: set[str] | None = None
) -> str | None:
    """One line naming the missing libraries and the command that installs them; None if none is missing."""
    missing = missing_libraries(required, installed)
    if not missing:
        return None
    return (
        f"Qt cannot open a window: the system lacks {', '.join(missing)}. "
        f"Install them with: {install_command(missing, package_manager(), required)}"
    )


def finding(installed: set[str] | None = None) -> Finding | None:
    """`sfumato doctor`'s line on Linux: whether Qt's window can open here. None on other systems."""
    if not sys.platform.startswith("linux"):
        return None
    if not uses_xcb():
        return Finding("Qt libraries", Severity.OK, "not needed: Qt is not using X11 here.")
    missing = missing_libraries(installed=installed)
    if not missing:
        return Finding("Qt libraries", Severity.OK, "every library the studio window needs is installed.")
    return Finding(
        "Qt libraries",
        Severity.PROBLEM,
        f"the studio cannot open its window: the system lacks {', '.join(missing)}.",
        install_command(missing, package_manager()),
    )


def _ldconfig_listing() -> str:
    for ldconfig in ("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"):
        try:
            done = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return done.stdout
    return ""


def _search_folders() -> list[str]:
    extra = [folder for folder in os.environ.get("LD_LIBRARY_PATH", "").split(":") if folder]
    return extra + list(_LIBRARY_FOLDERS)
