"""`sfumato update` updates only an installation the installer made, and says what to do otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sfumato.core.cli.update import installation_prefix


def test_the_installers_layout_is_recognised(tmp_path: Path) -> None:
    environment = tmp_path / "prefix" / "envs" / "a"
    environment.mkdir(parents=True)
    assert installation_prefix(environment) is None
    (tmp_path / "prefix" / "install.json").write_text("{}")
    assert installation_prefix(environment) == (tmp_path / "prefix").resolve()


def test_a_development_install_is_told_how_to_update_instead(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sfumato.desktop.launcher", "update"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SFUMATO_HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "not installed by Sfumato's installer" in result.stderr and "Traceback" not in result.stderr
