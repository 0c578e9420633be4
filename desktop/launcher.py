"""The `sfumato` command: the studio window when no command is given, the command line otherwise.

It lives on the desktop side so that `sfumato.core` never has to import Qt.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

CLI_FLAGS = ("-h", "--help", "--version")


def wants_command_line(argv: Sequence[str]) -> bool:
    """True when `argv` names a command (`generate`, `models`, …) or asks for help or the version."""
    if not argv:
        return False
    from sfumato.core.cli import command_names

    return argv[0] in CLI_FLAGS or argv[0] in command_names()


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if wants_command_line(arguments):
        from sfumato.core.cli import main as command_line

        return command_line(arguments)
    problem = qt_libraries_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from sfumato.desktop.app import main as studio

    return studio(arguments)


def qt_libraries_problem() -> str | None:
    """`sfumato doctor`'s line for missing X11 libraries, checked before Qt can abort on them."""
    from sfumato.core.system import qt_libraries
    from sfumato.core.system.findings import Severity

    finding = qt_libraries.finding()
    return finding.line() if finding and finding.severity is Severity.PROBLEM else None


if __name__ == "__main__":
    sys.exit(main())
