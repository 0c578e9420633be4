"""The studio's log files, in Sfumato's log folder (`paths.log_dir`): the app's own log and the
engine's, each kept to a few megabytes by rotation. Warnings from third-party libraries go to the log,
not to the artist's console."""

from __future__ import annotations

import contextlib
import importlib
import logging
import logging.handlers
import sys
from collections.abc import Iterator
from pathlib import Path

from sfumato.core.paths import log_dir

LOG_BYTES = 2_000_000
KEEP = 3  # older files: name.log.1 … name.log.3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HANDLER_NAME = "sfumato"
# Libraries that print their warnings on stderr through a handler of their own, not the root logger's.
SELF_PRINTING_LIBRARIES = ("transformers", "diffusers")


def rotated(path: Path) -> Path:
    """`path`, its older contents moved to path.1 (path.1 to path.2, …) once it passed LOG_BYTES.
    For a file another process appends to: rotate before starting that process."""
    if path.exists() and path.stat().st_size > LOG_BYTES:
        for number in range(KEEP - 1, 0, -1):
            older = path.with_name(f"{path.name}.{number}")
            if older.exists():
                older.replace(path.with_name(f"{path.name}.{number + 1}"))
        path.replace(path.with_name(f"{path.name}.1"))
    return path


def studio_engine_log() -> Path:
    """The file the studio's engine process writes its log to, rotated for this start."""
    return rotated(log_dir() / "studio-engine.log")


class _OwnWarnings(logging.Filter):
    """On the console: Sfumato's own warnings and errors only."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.startswith("sfumato") and record.levelno >= logging.WARNING


def log_to_file(path: Path | None = None, *, debug: bool = False) -> Path:
    """Send everything logged in this process (and Python warnings) to `path` (default: studio.log in
    the log folder), rotating; the console shows only Sfumato's own problems (everything in debug)."""
    path = path or log_dir() / "studio.log"
    stop_logging_to_file()  # set up before: replace
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    to_file = logging.handlers.RotatingFileHandler(
        path, maxBytes=LOG_BYTES, backupCount=KEEP, encoding="utf-8"
    )
    to_file.setFormatter(logging.Formatter(FORMAT))
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter("sfumato: %(message)s"))
    if not debug:
        console.addFilter(_OwnWarnings())
    for handler in (to_file, console):
        handler.set_name(HANDLER_NAME)
        root.addHandler(handler)
    logging.captureWarnings(True)
    return path


def stop_logging_to_file() -> None:
    """Undo `log_to_file` (the studio calls it on its way out)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
            handler.close()
    logging.captureWarnings(False)


@contextlib.contextmanager
def library_messages_to(path: Path, *, debug: bool = False) -> Iterator[Path]:
    """While inside: everything logged in this process, library warnings included, goes to `path`
    and only Sfumato's own problems to the console, as `log_to_file` sets it (the handlers there were
    are set aside), so an engine running in this process keeps the console as clean as the engine
    process does, whose stderr is its log. Undone on the way out."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    saved = []
    for name in SELF_PRINTING_LIBRARIES:
        # The library's get_logger installs its console handler: take it off after, not before.
        logger = importlib.import_module(f"{name}.utils.logging").get_logger(name)
        saved.append((logger, logger.propagate, list(logger.handlers)))
        logger.handlers.clear()
        logger.propagate = True
    root.handlers.clear()
    log_to_file(path, debug=debug)
    try:
        yield path
    finally:
        stop_logging_to_file()
        root.handlers[:] = handlers
        root.setLevel(level)
        for logger, propagate, own in saved:
            logger.handlers[:] = own
            logger.propagate = propagate
