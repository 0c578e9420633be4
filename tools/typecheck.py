"""Type-check the project with mypy.

The repository keeps `core/`, `desktop/` and `resources/` at the top level while the code imports
them as `sfumato.core`, `sfumato.desktop` and `sfumato.resources`. mypy cannot follow the import
hook that an editable install uses, so this script gives it a folder of links with the installed
names. Run from anywhere: `python tools/typecheck.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "desktop", "resources")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="sfumato-types-") as folder:
        package = Path(folder) / "sfumato"
        package.mkdir()
        for name in PACKAGES:
            (package / name).symlink_to(ROOT / name, target_is_directory=True)
        env = {**os.environ, "MYPYPATH": folder}
        sources = [str(package / "core"), str(package / "desktop"), "tests", "bench", "tools", "installers"]
        command = [sys.executable, "-m", "mypy", "--explicit-package-bases", *sources]
        return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
