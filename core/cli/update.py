"""`sfumato update`: install the latest version from where this installation came from, in place.

Only for an installation made by Sfumato's installer (its environment lies in PREFIX/envs/SLOT
beside PREFIX/install.json); the installer keeps the GPU backend and rolls back on failure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from sfumato.core.cli.commands import EXIT_BAD_INPUT, Commands, print_error

STATE = "install.json"


def register(commands: Commands) -> None:
    parser = commands.add(
        "update",
        summary="update an installation made by Sfumato's installer, keeping its GPU backend",
        handler=run_update,
    )
    parser.add_argument(
        "--source", help="a checkout or wheel to update from (default: the one installed from)"
    )


def installation_prefix(environment: Path | None = None) -> Path | None:
    """The installer's prefix of the environment `environment` (default: this one), if it has one."""
    prefix = (environment or Path(sys.prefix)).resolve().parent.parent
    return prefix if (prefix / STATE).is_file() else None


def run_update(args: argparse.Namespace) -> int:
    prefix = installation_prefix()
    if prefix is None:
        print_error(
            "This Sfumato was not installed by Sfumato's installer: update it the way it was installed "
            "(for a checkout: `git pull`, then `pip install -e .`)."
        )
        return EXIT_BAD_INPUT
    state = json.loads((prefix / STATE).read_text("utf-8"))
    python = (prefix / "python-path").read_text("utf-8").strip()
    uv = prefix / "uv" / ("uv.exe" if sys.platform == "win32" else "uv")
    installer = prefix / "installer" / "installers" / "install.py"
    command = [python, str(installer), "--prefix", str(prefix), "--uv", str(uv), "--python", python, "--yes"]
    if args.source or "offline" not in state:
        command += ["--source", args.source or state["source"]]
    else:
        command += ["--offline", state["offline"]]
    if "desktop" not in state:
        command.append("--no-desktop")
    return subprocess.call(command)
