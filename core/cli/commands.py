"""What every `sfumato` subcommand shares: the parser class, the registry, and errors for the user.

A command module has a `register(commands: Commands) -> None` function that adds its subcommand
with `commands.add(...)`; `sfumato.core.cli.COMMAND_MODULES` lists the modules to load.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

from sfumato.core.api import ErrorKind
from sfumato.core.limits import MAX_QUOTED, quoted

PROGRAM = "sfumato"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
EXIT_OUTPUT_CLOSED = 141  # as a shell reports a command stopped by SIGPIPE (`sfumato ... | head`)

# Errors the user can fix by changing what they asked for; anything else failed while working.
_BAD_INPUT_KINDS = frozenset({ErrorKind.BAD_INPUT, ErrorKind.MODEL_NOT_FOUND, ErrorKind.MODEL_INVALID})

MAX_ERROR_LINE = 8 * MAX_QUOTED

Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A command line that cannot be run as written; the message says what to change."""


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not a usage dump followed by the error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


class Commands:
    """Where command modules add their subcommands."""

    def __init__(self, subparsers: argparse._SubParsersAction[CommandParser]) -> None:
        self._subparsers = subparsers
        self.names: list[str] = []

    def add(
        self, name: str, *, summary: str, handler: Handler, description: str | None = None
    ) -> CommandParser:
        """Add subcommand `name`; `handler(args)` runs it and returns the exit code."""
        parser = self._subparsers.add_parser(
            name,
            help=summary,
            description=description or summary,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.set_defaults(handler=handler)
        self.names.append(name)
        return parser


def exit_code_for(kind: ErrorKind) -> int:
    return EXIT_BAD_INPUT if kind in _BAD_INPUT_KINDS else EXIT_FAILED


def print_error(message: str) -> None:
    """Print `message` as the single `sfumato: error: ...` line on stderr, of a readable length."""
    one_line = quoted(" ".join(message.split()), MAX_ERROR_LINE)
    print(f"{PROGRAM}: error: {one_line}", file=sys.stderr, flush=True)
