"""Promises the project makes about itself."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from tools.readme_commands import readme_command

ROOT = Path(__file__).resolve().parent.parent
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "PySide2", "qasync", "shiboken6")


def test_importing_the_engine_loads_no_qt() -> None:
    code = (
        "import sys, sfumato.core.engine, sfumato.core.cli, sfumato.core.worker, sfumato.core.tasks;"
        f"print([m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r}])"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "[]"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    command = readme_command("test")
    assert "pytest" in command and "torch==2.13.0" in command
    assert command.index("torch==2.13.0") < command.index("pip install -e")
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "tools/readme_commands.py test" in ci


def test_readme_launch_command_installs_torch_first_and_starts_the_app() -> None:
    command = readme_command("install-and-launch")
    assert command.index("torch==2.13.0") < command.index("pip install -e")
    assert command.rstrip().endswith("sfumato")


def test_every_package_folder_is_installed_under_sfumato() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    declared = set(config["packages"])
    mapping = config["package-dir"]
    for installed, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            name = ".".join([installed, *relative.parts])
            assert name in declared, f"{init.parent} is not listed in pyproject packages"
    assert not any(name.split(".")[0] in {"core", "desktop", "resources"} for name in declared)


def test_nothing_depends_on_torchvision() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    banned = ("torchvision", "open_clip", "open-clip", "timm")
    assert not [d for d in dependencies if d.lower().startswith(banned)]
