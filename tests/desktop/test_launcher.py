"""`sfumato` opens the studio with no command, and runs the command line otherwise."""

from __future__ import annotations

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
