"""The studio's logs land in Sfumato's log folder, rotate instead of growing without end, and keep
third-party warnings off the artist's console."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfumato.core.logs import KEEP, LOG_BYTES, log_to_file, rotated, studio_engine_log
from sfumato.core.paths import log_dir


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SFUMATO_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


def test_library_warnings_go_to_the_log_not_the_console(
    restored_logging: None, capfd: pytest.CaptureFixture[str]
) -> None:
    path = log_to_file()
    assert path.parent == log_dir() and path.parent.is_relative_to(log_dir().parent)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("CLIPImageProcessor requires torchvision (not installed)", UserWarning, stacklevel=1)
    logging.getLogger("somelibrary.models").warning("a library's notice")
    logging.getLogger("sfumato.desktop").warning("the engine stopped")
    for handler in logging.getLogger().handlers:
        handler.flush()
    console = capfd.readouterr().err
    assert "torchvision" not in console and "a library's notice" not in console
    assert "the engine stopped" in console
    written = path.read_text(encoding="utf-8")
    assert "torchvision" in written and "a library's notice" in written and "the engine stopped" in written


def test_the_engine_log_is_in_the_log_folder_and_rotates() -> None:
    path = studio_engine_log()
    assert path.parent == log_dir()
    for generation in range(KEEP + 2):
        path.write_bytes(bytes([65 + generation]) * (LOG_BYTES + 1))
        assert rotated(path) == path and not path.exists()
    kept = sorted(path.parent.glob(f"{path.name}.*"))
    assert [file.name for file in kept] == [f"{path.name}.{number}" for number in range(1, KEEP + 1)]
    assert kept[0].read_bytes()[:1] == bytes([65 + KEEP + 1]), "the newest old log is .1"
    path.write_text("small")
    assert rotated(path).read_text() == "small", "a small log is left as it is"
