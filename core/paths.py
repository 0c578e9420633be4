"""Where Sfumato keeps its own files, following each platform's conventions.

`SFUMATO_HOME` puts everything under one folder (tests and portable installs use it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "Sfumato"


def _platform_base(kind: str) -> Path:
    home = Path.home()
    if sys.platform == "win32":
        root = os.environ.get("LOCALAPPDATA") or os.environ.get("APPDATA") or str(home / "AppData" / "Local")
        return Path(root) / APP_NAME / kind
    if sys.platform == "darwin":
        folder = "Caches" if kind == "cache" else "Application Support"
        return home / "Library" / folder / APP_NAME
    variable, default = {
        "data": ("XDG_DATA_HOME", home / ".local" / "share"),
        "config": ("XDG_CONFIG_HOME", home / ".config"),
        "cache": ("XDG_CACHE_HOME", home / ".cache"),
    }[kind]
    return Path(os.environ.get(variable) or default) / APP_NAME.lower()


def _folder(kind: str) -> Path:
    override = os.environ.get("SFUMATO_HOME")
    folder = Path(override) / kind if override else _platform_base(kind)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def data_dir() -> Path:
    return _folder("data")


def config_dir() -> Path:
    return _folder("config")


def cache_dir() -> Path:
    return _folder("cache")
