"""The built-in demo model: a tiny text-to-image model trained on plain shapes, shipped in resources."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

DEMO_MODEL_ID = "demo"
_FOLDER = "demo-model"


def demo_model_dir() -> Path:
    """The demo model's diffusers folder inside the installed resources."""
    return Path(str(files("sfumato.resources").joinpath(_FOLDER)))
