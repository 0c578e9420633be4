"""Print one of the two commands the README promises: `install-and-launch` or `test`.

They live in README.md between `<!-- command:NAME -->` markers, so the README stays the single
source: CI runs exactly the test command a new contributor copies.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_command(name: str, text: str | None = None) -> str:
    text = README.read_text("utf-8") if text is None else text
    pattern = rf"<!-- command:{re.escape(name)} -->\s*```(?:sh|bash|shell)?\n(.*?)\n```"
    match = re.search(pattern, text, re.DOTALL)
    if match is None:
        raise SystemExit(f"README.md has no '{name}' command block")
    return match.group(1).strip()


if __name__ == "__main__":
    print(readme_command(sys.argv[1] if len(sys.argv) > 1 else "test"))
