"""The token count in the corner of each prompt box equals what the engine's CLIP tokenizer makes
of the prompt, chunk by chunk."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel, QPlainTextEdit
from transformers import CLIPTokenizer

from sfumato.core.models.configs import config_dir
from sfumato.core.prompts import prompt_chunks
from sfumato.desktop.ui.main_window import MainWindow

PROMPTS = [
    "a lighthouse at dusk",
    "(oil paint:1.3), ((masterpiece)), [blurry], a dog's café at 12:45 \\(night\\)",
    "a red cat BREAK a blue dog BREAK",
    "red, " * 40 + "blue " * 30,
    "Hokusai 北斎 wave, émigré painter 🎨",
    "",
]


@pytest.fixture(scope="module")
def engine_tokenizer() -> CLIPTokenizer:
    return CLIPTokenizer.from_pretrained(config_dir("sd1") / "tokenizer")


def _counter(editor: QPlainTextEdit) -> QLabel:
    label = editor.findChild(QLabel, f"{editor.objectName()}Tokens")
    assert label is not None
    return label


@pytest.mark.parametrize("box", ["prompt", "negative"])
def test_the_corner_count_equals_the_tokenizers(
    window: MainWindow, engine_tokenizer: CLIPTokenizer, box: str
) -> None:
    editor = window.generation.prompt if box == "prompt" else window.generation.negative
    counter = _counter(editor)
    for text in PROMPTS:
        editor.setPlainText(text)
        chunks = prompt_chunks(engine_tokenizer, text)
        tokens = sum(chunk.text_tokens for chunk in chunks)
        assert counter.text() == f"{tokens}/{75 * len(chunks)}", text
    assert counter.isVisible()
    corner = counter.geometry()
    assert corner.right() > editor.width() * 0.6 and corner.bottom() > editor.height() * 0.5


def test_counts_read_as_an_artist_expects(window: MainWindow) -> None:
    editor = window.generation.prompt
    editor.setPlainText("cat " * 12)
    assert _counter(editor).text() == "12/75"
    editor.setPlainText("cat " * 80)
    assert _counter(editor).text() == "80/150"
    editor.setPlainText("cat BREAK cat")
    assert _counter(editor).text() == "2/150"


def test_an_unreadable_prompt_says_why_in_the_counters_tooltip(window: MainWindow) -> None:
    editor = window.generation.prompt
    editor.setPlainText("(cat:1e9)")
    assert _counter(editor).text() == "?"
    assert "weight" in _counter(editor).toolTip().lower()
