"""The Windows installer is valid PowerShell and offers the same options as the other installers.

No PowerShell runs here, so install.ps1 is parsed with tree-sitter's PowerShell grammar: a syntax
error (an unclosed brace, string or bracket) shows as an ERROR or MISSING node, named by its line.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tree_sitter import Node

MISSING = "is a dev dependency: pip install -e .[dev]"
tree_sitter = pytest.importorskip("tree_sitter", reason=f"tree-sitter {MISSING}")
powershell = pytest.importorskip("tree_sitter_powershell", reason=f"tree-sitter-powershell {MISSING}")

INSTALLERS = Path(__file__).resolve().parents[2] / "installers"
SCRIPT = INSTALLERS / "install.ps1"


def parse(source: str) -> Node:
    parser = tree_sitter.Parser(tree_sitter.Language(powershell.language()))
    return parser.parse(source.encode("utf-8")).root_node


def nodes(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from nodes(child)


def syntax_problems(source: str) -> list[str]:
    """One line per ERROR or MISSING node: where it is and the text it covers."""
    problems = []
    for node in nodes(parse(source)):
        if node.is_missing:
            problems.append(f"line {node.start_point.row + 1}: missing {node.type!r}")
        elif node.is_error:
            text = (node.text or b"").decode("utf-8", "replace").splitlines()[0][:60]
            problems.append(f"line {node.start_point.row + 1}: cannot parse {text!r}")
    return problems


def test_install_ps1_has_no_syntax_error() -> None:
    problems = syntax_problems(SCRIPT.read_text("utf-8"))
    assert problems == [], "install.ps1 does not parse:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("intact", "broken"),
    [
        ("    exit 1\n}", "    exit 1\n"),  # Fail's closing brace
        ('"sfumato-install: error: $Message"', '"sfumato-install: error: $Message'),
        ("GetFullPath($Prefix)", "GetFullPath($Prefix"),
        ("param(", "param"),
    ],
    ids=["unclosed brace", "unclosed string", "unclosed parenthesis", "param without its parenthesis"],
)
def test_a_broken_copy_of_the_script_is_caught_and_located(intact: str, broken: str) -> None:
    source = SCRIPT.read_text("utf-8")
    assert source.count(intact) >= 1, f"install.ps1 no longer contains {intact!r}: pick another breakage"
    broken_line = source[: source.index(intact)].count("\n") + 1
    problems = syntax_problems(source.replace(intact, broken, 1))
    assert problems, f"breaking line {broken_line} went unnoticed"
    lines = [int(re.match(r"line (\d+):", problem)[1]) for problem in problems]  # type: ignore[index]
    assert max(lines) >= broken_line


def install_py_options() -> set[str]:
    spec = importlib.util.spec_from_file_location("install", INSTALLERS / "install.py")
    assert spec and spec.loader
    install = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(install)
    internal = {"uv", "python"}  # passed by the shell scripts, not by the person installing
    return set(vars(install.parse_arguments(["--prefix", "x"]))) - internal


def test_install_ps1_offers_every_option_install_py_has() -> None:
    root = parse(SCRIPT.read_text("utf-8"))
    block = next(node for node in nodes(root) if node.type == "param_block")
    parameters = [
        (child.text or b"").decode().lstrip("$")
        for node in nodes(block)
        if node.type == "script_parameter"
        for child in node.children
        if child.type == "variable"
    ]
    as_options = {re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() for name in parameters}
    assert as_options == install_py_options()


def test_the_double_click_wrapper_runs_install_ps1_with_the_given_arguments() -> None:
    wrapper = (INSTALLERS / "install.cmd").read_bytes()
    assert wrapper.count(b"\n") == wrapper.count(b"\r\n"), "cmd.exe misreads batch files without CRLF"
    calls = [line for line in wrapper.decode().splitlines() if line.lower().startswith("powershell")]
    assert len(calls) == 1, "install.cmd should call PowerShell once"
    target = re.search(r'-File\s+"%~dp0([^"]+)"', calls[0])
    assert target, f"install.cmd does not run a script next to itself: {calls[0]}"
    assert target[1] == SCRIPT.name and (INSTALLERS / target[1]).is_file()
    assert calls[0].rstrip().endswith("%*"), "install.cmd drops the arguments it was given"


def test_native_stderr_is_redirected_only_where_windows_powershell_allows_it() -> None:
    """Windows PowerShell 5.1 (what install.cmd starts) ends a script under 'Stop' at the first stderr
    line of a native command whose stderr is redirected: only the helper that relaxes it may redirect."""
    source = SCRIPT.read_text("utf-8")
    helper = next(
        node
        for node in nodes(parse(source))
        if node.type == "function_statement" and b"Invoke-Quietly" in (node.text or b"").split(b"(")[0]
    )
    assert "$ErrorActionPreference = 'Continue'" in (helper.text or b"").decode()
    inside = range(helper.start_point.row + 1, helper.end_point.row + 2)
    redirecting = [number for number, line in enumerate(source.splitlines(), 1) if re.search(r"\s2>", line)]
    assert redirecting and all(number in inside for number in redirecting), redirecting
