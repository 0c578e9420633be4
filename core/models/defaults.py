"""The settings each model starts with: size, CFG scale, sampler and steps.

Each layer overrides the one before it, field by field:

1. the settings every request declares (`sfumato.core.api.Request`);
2. the model itself: its native size, from the UNet's `sample_size` times the VAE's scale factor
   (an SD 2.x v-prediction model draws at 768 at least);
3. the catalog entry's default settings block (`resources/catalog.json`);
4. the demo model's own settings (it draws 64×64 pictures and is best at CFG 2);
5. the artist's own settings for the model, edited in the model manager and kept in
   `<config dir>/model-defaults.json`.

Nothing here imports torch: only small JSON config files are read.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from sfumato.core.api import BadInput, SfumatoError, request_fields, setting_of
from sfumato.core.atomic import write_atomically
from sfumato.core.limits import SIZE_STEP
from sfumato.core.models.catalog import find_entry
from sfumato.core.models.checkpoint_kind import identify
from sfumato.core.models.configs import config_dir
from sfumato.core.models.library import DEMO_ID, normalise_model_id
from sfumato.core.models.safetensors_header import read_header
from sfumato.core.models.source import SourceKind, resolve_model
from sfumato.core.paths import config_dir as sfumato_config_dir

log = logging.getLogger(__name__)

ARTIST_DEFAULTS_FILE = "model-defaults.json"
V_PREDICTION_SIZE = 768
SD2_TEXT_WIDTH = 1024


@dataclass(frozen=True)
class ModelDefaults:
    width: int
    height: int
    cfg: float
    sampler: str
    steps: int


FIELDS = tuple(declared.name for declared in fields(ModelDefaults))

# The demo model draws 64×64 scenes; at CFG 2 every sampler draws held-out prompts right (see the
# README's demo model section and `bench/quality.py`).
DEMO_DEFAULTS: dict[str, Any] = {"width": 64, "height": 64, "cfg": 2.0, "sampler": "Euler a", "steps": 20}


def declared_defaults() -> ModelDefaults:
    declared: dict[str, Any] = {field.name: field.default for field in request_fields()}
    return ModelDefaults(**{name: declared[name] for name in FIELDS})


def model_defaults(reference: str, *, with_artists: bool = True) -> ModelDefaults:
    """The settings the model named `reference` starts with (a model that cannot be found or read
    keeps the declared defaults: whoever runs it hears why in their own words). Without
    `with_artists`, what the model would have if the artist had not chosen settings of their own."""
    defaults = declared_defaults()
    size = native_size(reference)
    if size is not None:
        defaults = replace(defaults, width=size[0], height=size[1])
    entry = find_entry(reference) if reference.strip() else None
    if entry is not None and entry.defaults is not None:
        block = entry.defaults
        defaults = replace(
            defaults, width=block.width, height=block.height, cfg=block.guidance, steps=block.steps
        )
        if block.sampler:
            defaults = replace(defaults, sampler=block.sampler)
    if _is_demo(reference):
        defaults = replace(defaults, **DEMO_DEFAULTS)
    return replace(defaults, **artist_defaults(reference)) if with_artists else defaults


def native_size(reference: str) -> tuple[int, int] | None:
    """The size the model was trained at, from its config files; None when they cannot be read."""
    try:
        source = resolve_model(reference)
        if source.kind is SourceKind.SINGLE_FILE:
            kind = identify(read_header(source.path), name=source.path.name)
            return _folder_native_size(config_dir(kind.config_id))
        return _folder_native_size(source.path)
    except (SfumatoError, OSError, ValueError, KeyError, TypeError) as error:
        log.debug("no native size for %r: %s", reference, error)
        return None


def _folder_native_size(folder: Path) -> tuple[int, int]:
    unet = _read_json(folder / "unet" / "config.json")
    vae = _read_json(folder / "vae" / "config.json")
    scale = 2 ** (len(vae["block_out_channels"]) - 1)
    sample = unet["sample_size"]
    height, width = (sample, sample) if isinstance(sample, int) else sample
    width, height = int(width) * scale, int(height) * scale
    if unet.get("cross_attention_dim") == SD2_TEXT_WIDTH and _predicts_velocity(folder):
        width, height = max(width, V_PREDICTION_SIZE), max(height, V_PREDICTION_SIZE)
    return width, height


def _predicts_velocity(folder: Path) -> bool:
    try:
        scheduler = _read_json(folder / "scheduler" / "scheduler_config.json")
    except (OSError, ValueError):
        return False
    return scheduler.get("prediction_type") == "v_prediction"


def _read_json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text("utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a JSON object")
    return data


def _is_demo(reference: str) -> bool:
    return reference.strip().casefold() == DEMO_ID


# ---- the artist's own settings ---------------------------------------------------------------------


def artist_defaults_path() -> Path:
    return sfumato_config_dir() / ARTIST_DEFAULTS_FILE


def artist_defaults(reference: str) -> dict[str, Any]:
    """The settings the artist chose for this model (only those they set, checked against their ranges)."""
    saved = _all_artist_defaults().get(_key(reference), {})
    return _checked(saved) if isinstance(saved, dict) else {}


def save_artist_defaults(reference: str, values: dict[str, Any]) -> None:
    """Keep `values` (any of width, height, cfg, sampler, steps) as this model's own settings;
    an empty `values` forgets them."""
    checked = _checked(values, strict=True)
    every = _all_artist_defaults()
    if checked:
        every[_key(reference)] = checked
    else:
        every.pop(_key(reference), None)
    write_atomically(artist_defaults_path(), json.dumps(every, indent=2, sort_keys=True).encode())


def _all_artist_defaults() -> dict[str, Any]:
    try:
        data = json.loads(artist_defaults_path().read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning("ignoring the model settings in %s: %s", artist_defaults_path(), error)
        return {}
    return data if isinstance(data, dict) else {}


def _key(reference: str) -> str:
    return normalise_model_id(reference)


def _checked(values: dict[str, Any], *, strict: bool = False) -> dict[str, Any]:
    """The values that are known settings of the right type and range; with `strict`, anything else
    is refused in plain words instead of left out."""
    declared = {field.name: field for field in request_fields()}
    kept: dict[str, Any] = {}
    for name, value in values.items():
        problem = _problem(name, value, declared)
        if problem is None:
            kept[name] = float(value) if name == "cfg" else value
        elif strict:
            raise BadInput(problem)
    return kept


def _problem(name: str, value: object, declared: dict[str, Any]) -> str | None:
    if name not in FIELDS:
        return f"'{name}' is not a model setting; the settings are {', '.join(FIELDS)}."
    how = setting_of(declared[name])
    if name == "sampler":
        return None if isinstance(value, str) and value.strip() else "The sampler must be named."
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or (name != "cfg" and not isinstance(value, int))
    ):
        return f"{how.label} must be a {'number' if name == 'cfg' else 'whole number'}, not {value!r}."
    if how.minimum is not None and how.maximum is not None and not how.minimum <= value <= how.maximum:
        return f"{how.label} must be between {how.minimum:g} and {how.maximum:g}; got {value}."
    if name in ("width", "height") and int(value) % SIZE_STEP:
        return f"{how.label} must be a multiple of {SIZE_STEP}; got {value}."
    return None
