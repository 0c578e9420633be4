"""The installers' shell scripts (Linux, and macOS where they never ran) pass shellcheck."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

INSTALLERS = Path(__file__).resolve().parents[2] / "installers"
SCRIPTS = sorted([*INSTALLERS.glob("*.sh"), *INSTALLERS.glob("*.command")])


@pytest.mark.skipif(
    shutil.which("shellcheck") is None,
    reason="shellcheck is not installed: the installers' shell scripts were not checked",
)
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_shellcheck_finds_nothing(script: Path) -> None:
    done = subprocess.run(
        ["shellcheck", "--format=gcc", str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_installer_script_is_checked() -> None:
    names = {path.name for path in SCRIPTS}
    assert {"install.sh", "bundle.sh", "compile_locks.sh", "Install Sfumato.command"} <= names
