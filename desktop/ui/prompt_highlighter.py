"""Highlight prompt weighting as the engine reads it: `(words:1.3)`, `(words)`, `[words]`, `\\(`
escapes and BREAK. Text weighted up reads brighter, text weighted down dimmer. LoRA tags and
embedding names the artist has are coloured; a `<lora:...>` naming none is marked."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

from sfumato.core.prompt_addons import embedding_pattern, lora_tag_spans
from sfumato.desktop.ui.addon_names import AddonNames

_TOKEN = re.compile(
    r"(?P<escape>\\[()\[\]\\])|(?P<weight>:\s*[+-]?(?:\d+\.?\d*|\.\d+)\s*\))|(?P<open>[(\[])|(?P<close>[)\]])"
    r"|(?P<break>\bBREAK\b)"
)
_WEIGHTED_GROUP = re.compile(
    r"\((?P<inner>(?:\\.|[^()\[\]\\])*?):\s*(?P<value>[+-]?(?:\d+\.?\d*|\.\d+))\s*\)"
)


class Span(enum.StrEnum):
    SYNTAX = "syntax"  # brackets and the weight number
    UP = "up"  # text weighted above 1
    DOWN = "down"  # text weighted below 1
    BREAK = "break"
    ESCAPE = "escape"
    ADDON = "addon"  # a LoRA tag or an embedding's name that is installed
    UNKNOWN_ADDON = "unknown_addon"  # a LoRA tag naming no installed LoRA


@dataclass(frozen=True)
class Highlight:
    start: int
    length: int
    span: Span


def prompt_highlights(text: str, depth: tuple[str, ...] = ()) -> tuple[list[Highlight], tuple[str, ...]]:
    """Highlights for one line of a prompt. `depth` is the stack of brackets still open from the
    previous lines ("(" , "[" or "<" for a group with an explicit weight below 1); the stack at the
    end of this line is returned with them."""
    highlights: list[Highlight] = []
    stack = list(depth)
    position = 0
    for match in _TOKEN.finditer(text):
        _mark_text(highlights, position, match.start(), stack)
        position = match.end()
        kind = match.lastgroup
        if kind == "escape":
            highlights.append(Highlight(match.start(), 2, Span.ESCAPE))
        elif kind == "break":
            highlights.append(Highlight(match.start(), 5, Span.BREAK))
        elif kind == "open":
            group = _WEIGHTED_GROUP.match(text, match.start()) if match.group() == "(" else None
            below_one = group is not None and float(group.group("value")) < 1.0
            stack.append("<" if below_one else match.group())
            highlights.append(Highlight(match.start(), 1, Span.SYNTAX))
        elif kind == "weight" and stack and stack[-1] in "(<":
            stack.pop()
            highlights.append(Highlight(match.start(), match.end() - match.start(), Span.SYNTAX))
        elif kind == "close" and stack and _closes(stack[-1], match.group()):
            stack.pop()
            highlights.append(Highlight(match.start(), 1, Span.SYNTAX))
        else:
            _mark_text(highlights, match.start(), match.end(), stack)
    _mark_text(highlights, position, len(text), stack)
    return highlights, tuple(stack)


def addon_highlights(text: str, names: AddonNames) -> list[Highlight]:
    """The LoRA tags of one line of a prompt, known or not, and the embedding names in it."""
    highlights = [
        Highlight(start, end - start, Span.ADDON if names.knows_lora(name) else Span.UNKNOWN_ADDON)
        for start, end, name in lora_tag_spans(text)
    ]
    pattern = embedding_pattern(names.embeddings)
    if pattern is not None:
        highlights += [Highlight(m.start(), m.end() - m.start(), Span.ADDON) for m in pattern.finditer(text)]
    return highlights


def _closes(opened: str, closing: str) -> bool:
    return (opened in "(<" and closing == ")") or (opened == "[" and closing == "]")


def _mark_text(highlights: list[Highlight], start: int, end: int, stack: list[str]) -> None:
    if end <= start or not stack:
        return
    span = Span.UP if stack[-1] == "(" else Span.DOWN
    highlights.append(Highlight(start, end - start, span))


def _format(colour: QColor, *, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    text_format = QTextCharFormat()
    text_format.setForeground(colour)
    if bold:
        text_format.setFontWeight(QFont.Weight.DemiBold)
    text_format.setFontItalic(italic)
    return text_format


FORMATS = {
    Span.SYNTAX: _format(QColor(135, 150, 170)),
    Span.UP: _format(QColor(240, 240, 240), bold=True),
    Span.DOWN: _format(QColor(140, 140, 140), italic=True),
    Span.BREAK: _format(QColor(200, 170, 120), bold=True),
    Span.ESCAPE: _format(QColor(150, 150, 150)),
    Span.ADDON: _format(QColor(120, 200, 160), bold=True),
    Span.UNKNOWN_ADDON: _format(QColor(235, 110, 100)),
}
FORMATS[Span.UNKNOWN_ADDON].setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
FORMATS[Span.UNKNOWN_ADDON].setUnderlineColor(QColor(235, 110, 100))


class PromptHighlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument, addon_names: Callable[[], AddonNames] = AddonNames) -> None:
        super().__init__(document)
        self._stacks: dict[int, tuple[str, ...]] = {0: ()}
        self._addon_names = addon_names

    def highlightBlock(self, text: str) -> None:
        previous = self.previousBlockState()
        depth = self._stacks.get(previous, ())
        highlights, after = prompt_highlights(text, depth)
        for highlight in highlights + addon_highlights(text, self._addon_names()):
            self.setFormat(highlight.start, highlight.length, FORMATS[highlight.span])
        # Block states are integers; keep each distinct stack under a number of its own.
        key = next((number for number, stack in self._stacks.items() if stack == after), len(self._stacks))
        self._stacks[key] = after
        self.setCurrentBlockState(key)
