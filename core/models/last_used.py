"""The model `sfumato generate` used last, so that the next run without `--model` uses it again."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from sfumato.core.api import SfumatoError
from sfumato.core.atomic import write_atomically
from sfumato.core.models.library import DEMO_ID
from sfumato.core.models.source import resolve_model
from sfumato.core.paths import data_dir

log = logging.getLogger(__name__)

LAST_MODEL_FILE = "last-model.json"


def last_model_path() -> Path:
    return data_dir() / LAST_MODEL_FILE


def remember_last_model(reference: str) -> None:
    write_atomically(last_model_path(), json.dumps({"model": reference}).encode())


def default_model() -> str:
    """The model used last while it is still installed, else the demo model."""
    try:
        saved = json.loads(last_model_path().read_text("utf-8")).get("model")
    except (OSError, ValueError, AttributeError):
        return DEMO_ID
    if not isinstance(saved, str) or not saved.strip():
        return DEMO_ID
    try:
        resolve_model(saved)
    except SfumatoError as error:
        log.info("the model used last, %r, is gone (%s); using the demo model", saved, error)
        return DEMO_ID
    return saved
