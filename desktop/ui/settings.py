"""The studio's own settings (window layout, recent files and models, last generation settings),
kept as one JSON file in the config folder. `SFUMATO_HOME` isolates it like every other file."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sfumato.core.api import BadInput
from sfumato.core.atomic import write_atomically
from sfumato.core.paths import config_dir

log = logging.getLogger(__name__)

FILE_NAME = "studio.json"
RECENT_LIMIT = 10


class Settings:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / FILE_NAME
        self._values: dict[str, Any] = self._read()

    def _read(self) -> dict[str, Any]:
        try:
            values = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            # A damaged settings file must never keep the studio from starting.
            log.warning("ignoring unreadable settings file %s: %s", self.path, error)
            return {}
        return values if isinstance(values, dict) else {}

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._values[key] = value

    def recent(self, key: str) -> list[str]:
        values = self._values.get(key, [])
        return [value for value in values if isinstance(value, str)] if isinstance(values, list) else []

    def add_recent(self, key: str, value: str) -> None:
        """Put `value` first in the list `key`, without duplicates, keeping the newest few."""
        entries = [value, *(entry for entry in self.recent(key) if entry != value)]
        self._values[key] = entries[:RECENT_LIMIT]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        content = json.dumps(self._values, indent=2, sort_keys=True).encode("utf-8")
        try:
            write_atomically(self.path, content)
        except BadInput as error:
            log.warning("could not save settings to %s: %s", self.path, error)
