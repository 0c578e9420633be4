"""Autosave and crash recovery."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sfumato.desktop.document import Brush, Document
from sfumato.desktop.document.autosave import discard, find_recoverable, write_autosave
from tests.desktop.document.helpers import layered_document, random_pixels, state


def test_an_autosave_recovers_pixel_identical(tmp_path: Path) -> None:
    document = layered_document(title="Portrait")
    document.paint_stroke(
        Brush(size=14, hardness=0.3, opacity=0.6, colour=(40, 90, 200)), [(-20, 0), (90, 70)]
    )
    folder = tmp_path / "data" / "autosave"
    write_autosave(document, folder)

    found = find_recoverable(folder)
    assert [item.title for item in found] == ["Portrait"]
    recovered = found[0].open()
    state(recovered).assert_equal(state(document))


def test_each_document_has_its_own_autosave_and_the_newest_comes_first(tmp_path: Path) -> None:
    first = Document(title="First")
    first.add_layer(pixels=random_pixels(8, 8, seed=1))
    second = Document(title="Second")
    older = write_autosave(first, tmp_path)
    newer = write_autosave(second, tmp_path)
    past = time.time() - 60
    os.utime(older, (past, past))
    assert [item.path for item in find_recoverable(tmp_path)] == [newer, older]

    # Saving again refreshes the same file instead of piling up copies.
    first.add_layer()
    assert write_autosave(first, tmp_path) == older
    assert len(find_recoverable(tmp_path)) == 2


def test_discard_removes_autosaves_and_half_written_leftovers(tmp_path: Path) -> None:
    document = Document(title="Sketch")
    path = write_autosave(document, tmp_path)
    leftover = tmp_path / f".{path.name}.x1y2.partial"
    leftover.write_bytes(b"interrupted")
    unrelated = tmp_path / "settings.json"
    unrelated.write_text("{}")

    assert [item.path for item in find_recoverable(tmp_path)] == [path]
    discard(tmp_path)
    assert find_recoverable(tmp_path) == []
    assert sorted(tmp_path.iterdir()) == [unrelated]


def test_discarding_one_keeps_the_others(tmp_path: Path) -> None:
    kept = write_autosave(Document(title="Keep"), tmp_path)
    write_autosave(Document(title="Drop"), tmp_path)
    (dropped,) = [item for item in find_recoverable(tmp_path) if item.title == "Drop"]
    discard(tmp_path, dropped)
    assert [item.path for item in find_recoverable(tmp_path)] == [kept]


def test_no_folder_means_nothing_to_recover(tmp_path: Path) -> None:
    assert find_recoverable(tmp_path / "never-created") == []
    discard(tmp_path / "never-created")
