"""Naming the X11 libraries Qt lacks, and the command that installs them, before Qt aborts."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfumato.core.system import qt_libraries

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'
UBUNTU = "NAME=Ubuntu\nID=ubuntu\nID_LIKE=debian\n"
FEDORA = "NAME=Fedora Linux\nID=fedora\n"
ARCH = "NAME=Arch Linux\nID=arch\n"
MISSING = ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0"]


def installed_except(missing: list[str]) -> set[str]:
    return set(qt_libraries.QT_XCB_LIBRARIES) - set(missing)


def test_the_libraries_missing_on_a_fresh_debian_are_named() -> None:
    missing = qt_libraries.missing_libraries(installed=installed_except(MISSING))
    assert sorted(missing) == sorted(MISSING)
    assert qt_libraries.missing_libraries(installed=set(qt_libraries.QT_XCB_LIBRARIES)) == []


@pytest.mark.parametrize(
    ("os_release", "command"),
    [
        (DEBIAN, "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"),
        (UBUNTU, "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"),
        (FEDORA, "sudo dnf install xcb-util-cursor xcb-util-keysyms xcb-util-wm"),
        (ARCH, "sudo pacman -S xcb-util-cursor xcb-util-keysyms xcb-util-wm"),
    ],
)
def test_the_install_command_fits_the_distribution(os_release: str, command: str) -> None:
    assert qt_libraries.install_command(MISSING, qt_libraries.package_manager(os_release)) == command


def test_the_loader_cache_and_library_folders_are_both_read(tmp_path: Path) -> None:
    (tmp_path / "libxcb-cursor.so.0").write_bytes(b"")
    listing = "\tlibxcb.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libxcb.so.1\n"
    found = qt_libraries.installed_sonames(listing, [str(tmp_path), str(tmp_path / "absent")])
    assert {"libxcb.so.1", "libxcb-cursor.so.0"} <= found


def test_this_machine_is_read_without_error() -> None:
    assert "libc.so.6" in qt_libraries.installed_sonames()


@pytest.mark.parametrize(
    ("environ", "platform", "xcb"),
    [
        ({}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({}, "darwin", False),
        ({}, "win32", False),
    ],
)
def test_the_check_applies_only_where_qt_would_use_x11(
    environ: dict[str, str], platform: str, xcb: bool
) -> None:
    assert qt_libraries.uses_xcb(environ, platform) is xcb
