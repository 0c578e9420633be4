"""`sfumato` opens the studio with no command, and runs the command line otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sfumato.core import __version__
from sfumato.desktop.launcher import wants_command_line


@pytest.mark.parametrize(
    ("argv", "command_line"),
    [
        ([], False),
        (["painting.ora"], False),
        (["--device", "cpu"], False),
        (["generate", "--help"], True),
        (["models", "list"], True),
        (["info"], True),
        (["--version"], True),
        (["-h"], True),
    ],
)
def test_commands_go_to_the_command_line_and_the_rest_to_the_studio(
    argv: list[str], command_line: bool
) -> None:
    assert wants_command_line(argv) is command_line


def test_the_command_line_runs_without_loading_qt() -> None:
    code = (
        "import sys; from sfumato.desktop.launcher import main; code = main(['--version']);"
        "print('qt loaded' if 'PySide6' in sys.modules else 'no qt'); sys.exit(code)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert f"sfumato {__version__}" in result.stdout
    assert "no qt" in result.stdout


def test_a_missing_x11_library_gives_doctors_line_instead_of_qts_abort() -> None:
    # The check is pointed at a library no system has; the studio must stop before Qt loads.
    code = (
        "import sys; from sfumato.core.system import qt_libraries as q;"
        "absent = q.SystemPackage('libsfumato-absent9', 'sfumato-absent', 'sfumato-absent');"
        "q.QT_XCB_LIBRARIES = {**q.QT_XCB_LIBRARIES, 'libsfumato-absent.so.9': absent};"
        "from sfumato.desktop.launcher import main; code = main([]);"
        "print('qt loaded' if 'PySide6' in sys.modules else 'no qt'); sys.exit(code)"
    )
    environment = {
        key: value for key, value in os.environ.items() if key not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**environment, "DISPLAY": ":97"},
    )
    assert result.returncode == 1
    assert "no qt" in result.stdout
    assert (
        "[problem] Qt libraries: the studio cannot open its window: the system lacks libsfumato-absent.so.9."
        in result.stderr
    )
    assert "Fix: sudo apt install libsfumato-absent9" in result.stderr
