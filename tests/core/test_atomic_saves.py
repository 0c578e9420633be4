"""Every file Sfumato saves is replaced all at once and gets the permissions the user's umask asks for."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pytest

from sfumato.core.api import BadInput, Recipe
from sfumato.core.atomic import write_atomically
from sfumato.core.metadata import save_png
from sfumato.desktop.document.autosave import write_autosave
from sfumato.desktop.document.ora import save_ora
from tests.desktop.document.helpers import layered_document


@pytest.fixture
def private_umask() -> Iterator[None]:
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_saved_kind_follows_a_private_umask(tmp_path: Path, private_umask: None) -> None:
    document = layered_document()
    save_ora(document, tmp_path / "picture.ora")
    autosave = write_autosave(document, tmp_path / "autosaves")
    save_png(tmp_path / "export.png", np.zeros((8, 8, 3), np.uint8), Recipe(prompt="a cat"))
    for path in (tmp_path / "picture.ora", autosave, tmp_path / "export.png"):
        assert _mode(path) == 0o600, path.name


def test_a_new_file_gets_the_usual_mode_under_the_usual_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        write_atomically(tmp_path / "a.bin", b"data")
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "a.bin") == 0o644


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "shared.bin"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new"
    assert _mode(target) == 0o640


def test_a_failed_write_keeps_the_previous_file_and_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "work.ora"
    target.write_bytes(b"previous version")

    def fail_midway(stream: BinaryIO) -> None:
        stream.write(b"half of the new")
        raise OSError(28, "No space left on device")

    with pytest.raises(BadInput, match="No space left on device"):
        write_atomically(target, fail_midway)
    assert target.read_bytes() == b"previous version"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["work.ora"]
