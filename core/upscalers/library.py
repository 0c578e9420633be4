"""Where upscaler models are found: a downloaded catalog upscaler by id, an installed one
(`<data dir>/models/upscalers/<name>.safetensors`) by name, or a file path.

Only safetensors files are opened here. A pickle file (`.pth`, as most ESRGAN models were first
published) is converted by the isolated converter first, and the converted copy is kept in the
upscalers folder under the pickle's name, so it is converted once.
"""

from __future__ import annotations

import re
from pathlib import Path

from sfumato.core.api import ModelNotFound
from sfumato.core.models.convert import convert_to_safetensors
from sfumato.core.models.library import WEIGHTS_SUFFIX, models_root
from sfumato.core.models.safetensors_header import is_legacy_pickle
from sfumato.core.upscalers.catalog import downloaded_file, find_upscaler_entry, upscaler_catalog

LANCZOS = "lanczos"  # not a model: the classic resampling filter, always available


def upscalers_folder() -> Path:
    return models_root() / "upscalers"


def installed_upscalers() -> list[str]:
    """Downloaded catalog upscalers by id, then the files in the upscalers folder by name."""
    folder = upscalers_folder()
    own = sorted(path.stem for path in folder.glob(f"*{WEIGHTS_SUFFIX}")) if folder.is_dir() else []
    return [entry.id for entry in upscaler_catalog() if downloaded_file(entry) is not None] + own


def upscaler_file(upscaler: str) -> Path:
    """The safetensors file for `upscaler`: an installed upscaler's name, or a path to a weights file."""
    entry = find_upscaler_entry(upscaler)
    if entry is not None:
        downloaded = downloaded_file(entry)
        if downloaded is None:
            raise ModelNotFound(
                f"The upscaler {entry.name} is not downloaded yet; "
                f"get it with `sfumato models download {entry.id}`."
            )
        return downloaded
    installed = upscalers_folder() / f"{upscaler}{WEIGHTS_SUFFIX}"
    if installed.is_file():
        return installed
    path = Path(upscaler).expanduser()
    if not path.is_file():
        names = ", ".join([LANCZOS, *installed_upscalers()])
        raise ModelNotFound(f"There is no upscaler '{upscaler}'. Installed upscalers: {names}.")
    with path.open("rb") as file:
        prefix = file.read(9)
    if not is_legacy_pickle(prefix):
        return path
    converted = upscalers_folder() / f"{re.sub(r'[^A-Za-z0-9._-]+', '-', path.stem)}{WEIGHTS_SUFFIX}"
    if not converted.is_file():
        converted.parent.mkdir(parents=True, exist_ok=True)
        convert_to_safetensors(path, converted)
    return converted
