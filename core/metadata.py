"""Recipes in PNG files, written and read as AUTOMATIC1111-style "parameters" text.

The text is the prompt (any number of lines), then an optional `Negative prompt: ...` part, then one
last line of `Key: value` pairs joined by ", ":

    a cat on a sofa, oil painting
    Negative prompt: blurry
    Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234, Size: 512x768, ...

Values holding a comma, colon, quote or line break are JSON-quoted. Which recipe field is which key
is declared on the fields themselves (`Setting.a1111` in `sfumato.core.api`). Keys a Recipe does not
model (Lora hashes, Version, ADetailer ...) travel in `Recipe.extras` and are written back as read.
Our own files also carry `Sfumato mode`, so they read back exactly; the mode of other files is inferred.
"""

from __future__ import annotations

import contextlib
import json
import re
import zlib
from dataclasses import Field, fields
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

from sfumato.core.api import SETTING, BadInput, Mode, Recipe, setting_of
from sfumato.core.atomic import write_atomically

PARAMETERS_CHUNK = "parameters"
NEGATIVE_PREFIX = "Negative prompt:"

SAMPLER = "Sampler"
SCHEDULE_TYPE = "Schedule type"
SIZE = "Size"
SFUMATO_MODE = "Sfumato mode"
# Written only when the plain prompt lines would not read back exactly (e.g. a prompt line that
# starts with "Negative prompt:" or ends in spaces).
SFUMATO_PROMPT = "Sfumato prompt"
SFUMATO_NEGATIVE = "Sfumato negative"

# Schedule types that Sfumato's sampler names carry as a suffix ("DPM++ 2M Karras").
SAMPLER_SCHEDULE_SUFFIXES = ("Karras", "Exponential")
# Besides Mask blur, A1111 writes these for inpainting only.
_INPAINT_KEYS = ("Inpaint area", "Masked area padding", "Mask mode", "Masked content")
# With hires fix, a txt2img image carries a Denoising strength that belongs to the second pass.
_HIRES_KEYS = ("Hires upscale", "Hires resize", "Hires upscaler", "Hires steps", "First pass size")
# The recipe fields declared with a `Key: value` pair of their own, in the order they are written.
_KEY_OF = {
    declared.name: key
    for declared in fields(Recipe)
    if SETTING in declared.metadata and (key := setting_of(declared).a1111) is not None
}
_CORE_KEYS = frozenset({_KEY_OF["steps"], SAMPLER, _KEY_OF["cfg"], _KEY_OF["seed"], SIZE})
_RECIPE_KEYS = _CORE_KEYS | frozenset(_KEY_OF.values())
_SFUMATO_KEYS = frozenset({SFUMATO_MODE, SFUMATO_PROMPT, SFUMATO_NEGATIVE})
_MIN_PAIRS = 3

_KEY_AT = re.compile(r"\s*(\w[\w \-/]*?)\s*:\s*")
_KEY_NAME = re.compile(r"\w(?:[\w \-/]*[\w\-/])?")
_SIZE_VALUE = re.compile(r"(\d+)\s*x\s*(\d+)")
_JSON = json.JSONDecoder()
_DEFAULTS = Recipe(prompt="")

# ---- writing ------------------------------------------------------------------------------------


def format_parameters(recipe: Recipe) -> str:
    """The recipe as AUTOMATIC1111 "parameters" text."""
    text = _compose(recipe, exact_prompts=False)
    header_lines = text.strip().split("\n")[:-1]  # as `parse_parameters` will read them
    if _split_prompts(header_lines) != (recipe.prompt, recipe.negative):
        text = _compose(recipe, exact_prompts=True)
    return text


def _compose(recipe: Recipe, *, exact_prompts: bool) -> str:
    pairs = _recipe_pairs(recipe)
    if exact_prompts:
        pairs += [(SFUMATO_PROMPT, recipe.prompt), (SFUMATO_NEGATIVE, recipe.negative)]
    lines = [recipe.prompt] if recipe.prompt else []
    if recipe.negative:
        lines.append(f"{NEGATIVE_PREFIX} {recipe.negative}")
    lines.append(", ".join(_format_pair(key, value) for key, value in pairs))
    return "\n".join(lines)


def _recipe_pairs(recipe: Recipe) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for declared in fields(Recipe):
        value = getattr(recipe, declared.name)
        if declared.name == "sampler":
            base_sampler, schedule = split_sampler(value)
            pairs += [(SAMPLER, base_sampler), *([(SCHEDULE_TYPE, schedule)] if schedule else [])]
        elif declared.name == "width":
            pairs.append((SIZE, f"{recipe.width}x{recipe.height}"))
        elif declared.name in _KEY_OF and _is_written(declared, value):
            pairs.append((_KEY_OF[declared.name], _format_value(value)))

    # Modelled keys come from the recipe fields, never from extras; a hires-fix "Denoising strength"
    # lives in extras (the recipe has no strength then).
    taken = {key for key, _ in pairs} | (_RECIPE_KEYS - {_KEY_OF["strength"]}) | _SFUMATO_KEYS
    for key, value in recipe.extras.items():
        if key in taken:
            continue
        if not _KEY_NAME.fullmatch(key):
            raise ValueError(f"Recipe extras key {key!r} cannot be written as a parameters key")
        pairs.append((key, str(value)))
    pairs.append((SFUMATO_MODE, Mode(recipe.mode).value))
    return pairs


def _is_written(declared: Field[Any], value: object) -> bool:
    return value is not None and (setting_of(declared).always_written or value != declared.default)


def _format_value(value: object) -> str:
    return _format_number(value) if isinstance(value, float) else str(value)


def split_sampler(sampler: str) -> tuple[str, str]:
    """("DPM++ 2M Karras") -> ("DPM++ 2M", "Karras"); a sampler without a schedule suffix -> (sampler, "")."""
    for suffix in SAMPLER_SCHEDULE_SUFFIXES:
        base = sampler.removesuffix(f" {suffix}")
        if base != sampler and base.strip():
            return base, suffix
    return sampler, ""


def _format_pair(key: str, value: str) -> str:
    if key == value and key not in _RECIPE_KEYS | _SFUMATO_KEYS:
        return key  # A1111 writes a flag whose value equals its name as the bare name
    return f"{key}: {_quote(value)}"


def _quote(value: str) -> str:
    if _is_json_container(value):
        return value  # e.g. a `Hashes: {"model": "..."}` value, written by some tools without quotes
    if value != value.strip() or not value.isprintable() or any(char in value for char in ',:"'):
        return json.dumps(value, ensure_ascii=False)
    return value


def _is_json_container(value: str) -> bool:
    if not value.startswith(("{", "[")) or value != value.strip() or "\n" in value or "\r" in value:
        return False
    try:
        return isinstance(json.loads(value), dict | list)
    except ValueError:
        return False


def _format_number(number: float) -> str:
    number = float(number)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


# ---- reading ------------------------------------------------------------------------------------


def parse_parameters(text: str) -> Recipe:
    """A Recipe from AUTOMATIC1111 "parameters" text (ours or AUTOMATIC1111's own).

    Keys that are missing take the Recipe defaults; keys a Recipe does not model go to `extras`."""
    lines = text.strip().split("\n")
    values = _parameter_values(lines[-1])
    prompt, negative = _split_prompts(lines[:-1])
    prompt = values.pop(SFUMATO_PROMPT, prompt)
    negative = values.pop(SFUMATO_NEGATIVE, negative)

    written_mode = _mode_named(values.pop(SFUMATO_MODE, ""))
    is_hires_txt2img = any(key in values for key in _HIRES_KEYS)
    sampler = _pop_sampler(values)
    width, height = _pop_size(values)
    read: dict[str, Any] = {}
    for declared in fields(Recipe):
        if declared.name not in _KEY_OF or (declared.name == "strength" and is_hires_txt2img):
            continue  # a hires-fix "Denoising strength" belongs to the second pass: it stays in extras
        value = _pop_typed(values, _KEY_OF[declared.name], str(declared.type))
        if value is not None:
            read[declared.name] = value
    mode = written_mode or _infer_mode(read.get("strength"), read.get("mask_blur"), values)
    shared: dict[str, Any] = {
        "prompt": prompt,
        "negative": negative,
        "sampler": sampler,
        "width": width,
        "height": height,
    }
    return Recipe(**shared, **read, mode=mode, extras=values)


def _parameter_values(line: str) -> dict[str, str]:
    pairs = _split_pairs(line)
    keyed = [key for key, value in pairs if key != value]
    if len(keyed) < _MIN_PAIRS or not _CORE_KEYS & set(keyed):
        raise BadInput(
            "No generation settings were found. The text should end with a line such as "
            '"Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234, Size: 512x512".'
        )
    return dict(pairs)


def _split_pairs(line: str) -> list[tuple[str, str]]:
    """The `Key: value` pairs of a parameters line, in order. A bare name stands for itself."""
    pairs: list[tuple[str, str]] = []
    position = 0
    while position < len(line):
        key_match = _KEY_AT.match(line, position)
        if key_match is None:
            end = _comma_or_end(line, position)
            word = line[position:end].strip()
            if _KEY_NAME.fullmatch(word):
                pairs.append((word, word))
            position = end + 1
            continue
        value, position = _read_value(line, key_match.end())
        pairs.append((key_match.group(1), value))
    return pairs


def _read_value(line: str, start: int) -> tuple[str, int]:
    """The value starting at `start` and the position just past its comma."""
    if line.startswith(('"', "{", "["), start):
        try:
            decoded, end = _JSON.raw_decode(line, start)
        except ValueError:
            pass  # not JSON after all: read it as a plain value
        else:
            after = _skip_spaces(line, end)
            if after == len(line) or line[after] == ",":
                is_string = line[start] == '"' and isinstance(decoded, str)
                return (decoded if is_string else line[start:end]), after + 1
    end = _comma_or_end(line, start)
    return line[start:end].strip(), end + 1


def _comma_or_end(line: str, start: int) -> int:
    comma = line.find(",", start)
    return len(line) if comma < 0 else comma


def _skip_spaces(line: str, start: int) -> int:
    while start < len(line) and line[start].isspace():
        start += 1
    return start


def _split_prompts(header_lines: list[str]) -> tuple[str, str]:
    """(prompt, negative) from the lines above the parameters line."""
    prompt: list[str] = []
    negative: list[str] | None = None
    for raw_line in header_lines:
        line = raw_line.strip()
        if negative is None and line.startswith(NEGATIVE_PREFIX):
            negative = [line.removeprefix(NEGATIVE_PREFIX).strip()]
        elif negative is not None:
            negative.append(line)
        else:
            prompt.append(line)
    return "\n".join(prompt), "\n".join(negative or [])


def _pop_sampler(values: dict[str, str]) -> str:
    sampler = values.pop(SAMPLER, None)
    if sampler is None:
        return _DEFAULTS.sampler
    schedule = values.get(SCHEDULE_TYPE, "").strip()
    suffix = next((s for s in SAMPLER_SCHEDULE_SUFFIXES if s.lower() == schedule.lower()), None)
    if suffix is not None and not split_sampler(sampler)[1]:
        del values[SCHEDULE_TYPE]
        return f"{sampler} {suffix}"
    return sampler  # other schedule types ("Automatic", "Uniform", ...) stay in extras


def _pop_size(values: dict[str, str]) -> tuple[int, int]:
    size = values.pop(SIZE, None)
    if size is None:
        return _DEFAULTS.width, _DEFAULTS.height
    match = _SIZE_VALUE.fullmatch(size)
    if match is None:
        raise BadInput(f'The setting "{SIZE}" is "{size}"; it should be width x height, like 512x768.')
    return int(match.group(1)), int(match.group(2))


def _pop_typed(values: dict[str, str], key: str, type_name: str) -> Any:
    """The value of `key` as the field type named `type_name` ("int", "float | None", "str"), or None."""
    base = type_name.removesuffix(" | None")
    if base == "int":
        return _pop_optional_int(values, key)
    if base == "float":
        return _pop_optional_float(values, key)
    return values.pop(key, None)


def _pop_optional_int(values: dict[str, str], key: str) -> int | None:
    text = values.pop(key, None)
    if text is None:
        return None
    with contextlib.suppress(ValueError):
        return int(text)
    with contextlib.suppress(ValueError, OverflowError):
        number = float(text)
        if number.is_integer():
            return int(number)
    raise BadInput(f'The setting "{key}" is "{text}"; it should be a whole number.')


def _pop_optional_float(values: dict[str, str], key: str) -> float | None:
    text = values.pop(key, None)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise BadInput(f'The setting "{key}" is "{text}"; it should be a number.') from None


def _mode_named(name: str) -> Mode | None:
    try:
        return Mode(name.strip())
    except ValueError:
        return None


def _infer_mode(strength: float | None, mask_blur: int | None, extras: dict[str, str]) -> Mode:
    if strength is None:
        return Mode.TXT2IMG
    if mask_blur is not None or any(key in extras for key in _INPAINT_KEYS):
        return Mode.INPAINT
    return Mode.IMG2IMG


# ---- PNG files ----------------------------------------------------------------------------------


def save_png(path: Path, image: np.ndarray, recipe: Recipe | None) -> None:
    """Write an RGB or RGBA uint8 image as a PNG, with the recipe when given.

    The file is written next to `path` under a temporary name and then moved over it, so an
    interrupted save leaves the previous file untouched."""
    picture = _picture_of(image)
    info = PngImagePlugin.PngInfo()
    if recipe is not None:
        info.add_text(PARAMETERS_CHUNK, format_parameters(recipe))  # iTXt when not latin-1
    write_atomically(path, lambda file: picture.save(file, format="PNG", pnginfo=info))


def read_recipe(path: Path) -> Recipe | None:
    """The recipe stored in a PNG, or None when it has none."""
    text = _parameters_text(path)
    if text is None:
        return None
    try:
        return parse_parameters(text)
    except BadInput as error:
        raise BadInput(f'The settings stored in "{path.name}" could not be read. {error.message}') from error


def _picture_of(image: np.ndarray) -> Image.Image:
    if (
        not isinstance(image, np.ndarray)
        or image.dtype != np.uint8
        or image.ndim != 3
        or image.shape[2] not in (3, 4)
        or 0 in image.shape[:2]
    ):
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise ValueError(f"save_png needs a uint8 array of shape (H, W, 3 or 4), got {shape} {dtype}")
    return Image.fromarray(np.ascontiguousarray(image))


def _parameters_text(path: Path) -> str | None:
    try:
        with Image.open(path) as picture:
            if not isinstance(picture, PngImagePlugin.PngImageFile):
                raise BadInput(
                    f'"{path.name}" is a {picture.format} image, not a PNG; only PNG files are read.'
                )
            text = picture.text.get(PARAMETERS_CHUNK)  # loads the image: chunks may follow the pixels
    except FileNotFoundError:
        raise BadInput(f'"{path}" does not exist. It may have been moved or deleted.') from None
    except PermissionError:
        raise BadInput(f'"{path}" cannot be opened: you do not have permission to read it.') from None
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error, Image.DecompressionBombError) as error:
        raise BadInput(
            f'"{path.name}" could not be read as a PNG image. The file may be damaged, incomplete '
            "or not an image at all."
        ) from error
    return None if text is None else str(text)
