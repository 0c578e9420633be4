"""The `sfumato` command line.

    sfumato generate --prompt TEXT [--model MODEL] [--out PATH] [--recipe IMAGE.png] [options]
    sfumato recipe IMAGE.png
    sfumato upscale IMAGE --factor 2|4 --out PATH [--upscaler ID] [--refine F --model MODEL]
    sfumato models list|download|import|convert|remove|verify ...
    sfumato zoom --model MODEL --prompt TEXT --out VIDEO [options]
    sfumato morph --model MODEL --prompts "a | b | c" --out VIDEO [options]
    sfumato info
    sfumato doctor
    sfumato update
    sfumato --version

Exit codes: 0 done, 1 the work failed, 2 the command line or its inputs are wrong, 130 interrupted,
141 the output was closed early (e.g. by `| head`). Every error is one `sfumato: error: ...` line
on stderr.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Sequence

from sfumato.core import __version__
from sfumato.core.api import SfumatoError
from sfumato.core.cli.commands import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OUTPUT_CLOSED,
    PROGRAM,
    CommandParser,
    Commands,
    UsageError,
    exit_code_for,
    print_error,
)

# Each module has `register(commands: Commands) -> None`; subcommands appear in this order.
COMMAND_MODULES: tuple[str, ...] = (
    "sfumato.core.cli.generate",
    "sfumato.core.cli.recipe",
    "sfumato.core.cli.upscale",
    "sfumato.core.cli.models",
    "sfumato.core.cli.zoom",
    "sfumato.core.cli.info",
    "sfumato.core.cli.doctor",
    "sfumato.core.cli.update",
)

DEBUG_VARIABLE = "SFUMATO_DEBUG"


def _parser_and_commands(command_modules: Sequence[str]) -> tuple[CommandParser, Commands]:
    parser = CommandParser(
        prog=PROGRAM,
        description="Sfumato: Stable Diffusion on your own computer.",
        epilog=f"Run `{PROGRAM} COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {__version__}")
    subparsers = parser.add_subparsers(
        title="commands", dest="command", metavar="COMMAND", parser_class=CommandParser, required=True
    )
    commands = Commands(subparsers)
    for name in command_modules:
        importlib.import_module(name).register(commands)
    return parser, commands


def build_parser(command_modules: Sequence[str] = COMMAND_MODULES) -> CommandParser:
    return _parser_and_commands(command_modules)[0]


def command_names() -> list[str]:
    """The subcommands, e.g. for a launcher deciding between the command line and the studio."""
    return _parser_and_commands(COMMAND_MODULES)[1].names


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: this process's arguments) and return the exit code."""
    logging.basicConfig(
        level=logging.DEBUG if os.environ.get(DEBUG_VARIABLE) else logging.WARNING,
        format=f"{PROGRAM} %(levelname)s %(name)s: %(message)s",
    )
    try:
        args = build_parser().parse_args(argv)
        code: int = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not later at exit
        return code
    except BrokenPipeError:
        # Whoever read the output stopped reading (`| head`): nothing is wrong, nothing to say.
        # Later writes, and the flush at exit, go nowhere instead of failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OUTPUT_CLOSED
    except SystemExit as done:  # --help and --version
        return done.code if isinstance(done.code, int) else EXIT_BAD_INPUT
    except UsageError as error:
        print_error(str(error))
        return EXIT_BAD_INPUT
    except SfumatoError as error:
        print_error(error.message)
        return exit_code_for(error.kind)
    except KeyboardInterrupt:
        print_error("Interrupted.")
        return EXIT_INTERRUPTED
    except Exception as error:
        if os.environ.get(DEBUG_VARIABLE):
            raise
        print_error(
            f"Something went wrong unexpectedly ({type(error).__name__}: {error}). "
            f"Run again with {DEBUG_VARIABLE}=1 to see the details."
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
