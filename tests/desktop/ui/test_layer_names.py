"""A generated layer is named after its whole prompt: the document and the .ora keep every word,
only the Layers panel shortens the name on screen, and its tooltip shows it whole."""

from __future__ import annotations

from pathlib import Path

from sfumato.desktop.document.ora import open_ora
from sfumato.desktop.ui.main_window import MainWindow
from tests.desktop.document.helpers import random_pixels, sample_recipe

PROMPT = (
    "a large red circle in the middle of a field of tall yellow grass at sunset, "
    "thick impasto oil paint, dramatic clouds, (golden hour:1.2)"
)


def test_long_names_are_whole_in_the_file_and_elided_only_on_screen(
    window: MainWindow, tmp_path: Path
) -> None:
    layer = window.document.add_generated_layer(
        random_pixels(64, 64, seed=1)[..., :3], sample_recipe(prompt=PROMPT)
    )
    assert layer.name == PROMPT

    layers = window.layers.list
    item = layers.item(0)
    assert item.text() == PROMPT and PROMPT in item.toolTip()
    assert layers.fontMetrics().horizontalAdvance(PROMPT) > layers.viewport().width()  # too long to show
    row = layers.visualItemRect(item)
    assert row.left() >= 0 and row.right() < layers.viewport().width()  # drawn within the list: elided
    assert layers.horizontalScrollBar().maximum() == 0

    saved = window.files.save(tmp_path / "names.ora")
    assert open_ora(saved).layers[-1].name == PROMPT
