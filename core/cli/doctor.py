"""`sfumato doctor`: one line for each part of the setup, with the fix for anything wrong."""

from __future__ import annotations

import argparse

from sfumato.core.cli.commands import EXIT_FAILED, EXIT_OK, Commands


def register(commands: Commands) -> None:
    commands.add(
        "doctor",
        summary="check the setup: GPU and torch build, Qt libraries, disk, folders, ffmpeg, models",
        description=(
            "Check this installation and print one line per check, with the fix for anything wrong.\n"
            "Exit status 1 when something blocks generation or the studio, 0 otherwise."
        ),
        handler=run_doctor,
    )


def run_doctor(args: argparse.Namespace) -> int:
    from sfumato.core.doctor import Severity, run_checks

    findings = run_checks()
    for finding in findings:
        print(finding.line(), flush=True)
    blocked = any(finding.severity is Severity.PROBLEM for finding in findings)
    return EXIT_FAILED if blocked else EXIT_OK
