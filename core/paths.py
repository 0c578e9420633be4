"""Where Sfumato keeps its own files, in each platform's usual folders (found by platformdirs).

`SFUMATO_HOME` puts everything under one folder (tests and portable installs use it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

# XDG folders are lower-case by convention; Windows and macOS folders carry the product's name.
APP_NAME = "sfumato" if sys.platform.startswith("linux") else "Sfumato"

_PLATFORM_FOLDERS = {
    "data": platformdirs.user_data_dir,
    "config": platformdirs.user_config_dir,
    "cache": platformdirs.user_cache_dir,
    "logs": platformdirs.user_log_dir,
}


def _folder(kind: str) -> Path:
    override = os.environ.get("SFUMATO_HOME")
    if override:
        folder = Path(override) / kind
    else:
        folder = Path(_PLATFORM_FOLDERS[kind](APP_NAME, appauthor=False))
        if sys.platform == "win32" and kind in ("data", "config"):
            folder = folder / kind  # Windows puts data and config in one folder: keep them apart
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def data_dir() -> Path:
    return _folder("data")


def config_dir() -> Path:
    return _folder("config")


def cache_dir() -> Path:
    return _folder("cache")


def log_dir() -> Path:
    return _folder("logs")
