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

With a hires fix, `Size` is the first pass's size, as AUTOMATIC1111 writes it, and `Hires resize` the
frame's (Sfumato's frame is always a target size); A1111's files without `Hires resize` end at `Size`
× `Hires upscale`. Sfumato's files from before `Hires resize` was written hold the frame in `Size`.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import struct
import warnings
import zlib
from dataclasses import Field, fields
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, PngImagePlugin

from sfumato.core.api import SETTING, BadInput, Mode, Recipe, setting_of
from sfumato.core.atomic import write_atomically
from sfumato.core.hires_plan import first_pass_size
from sfumato.core.limits import MAX_NESTING, MAX_PNG_CHUNKS, MAX_RECIPE_TEXT, quoted

PARAMETERS_CHUNK = "parameters"
NEGATIVE_PREFIX = "Negative prompt:"

SAMPLER = "Sampler"
SCHEDULE_TYPE = "Schedule type"
SIZE = "Size"
HIRES_RESIZE = "Hires resize"
FIRST_PASS_SIZE = "First pass size"  # AUTOMATIC1111 before 1.0, whose `Size` was the final one
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
_HIRES_KEYS = ("Hires upscale", HIRES_RESIZE, "Hires upscaler", "Hires steps", FIRST_PASS_SIZE)
# The recipe's hires settings, written as AUTOMATIC1111's keys when a hires pass ran.
_HIRES_FIELDS = ("hires", "hires_strength", "hires_steps", "upscaler")
_SFUMATO_HIRES = {
    declared.name: f"Sfumato {setting_of(declared).label.lower()}"
    for declared in fields(Recipe)
    if declared.name in _HIRES_FIELDS
}
# The recipe fields declared with a `Key: value` pair of their own, in the order they are written.
_KEY_OF = {
    declared.name: key
    for declared in fields(Recipe)
    if SETTING in declared.metadata and (key := setting_of(declared).a1111) is not None
}
_CORE_KEYS = frozenset({_KEY_OF["steps"], SAMPLER, _KEY_OF["cfg"], _KEY_OF["seed"], SIZE})
_RECIPE_KEYS = _CORE_KEYS | frozenset(_KEY_OF.values()) | {HIRES_RESIZE}
_SFUMATO_KEYS = frozenset({SFUMATO_MODE, SFUMATO_PROMPT, SFUMATO_NEGATIVE, *_SFUMATO_HIRES.values()})
_MIN_PAIRS = 3

_KEY = re.compile(r"\w[\w \-/]*")
_SPACES = re.compile(r"\s*")
_KEY_NAME = re.compile(r"\w(?:[\w \-/]*[\w\-/])?")
_SIZE_VALUE = re.compile(r"(\d+)\s*x\s*(\d+)")
_JSON = json.JSONDecoder()
_FIRST_JSON_WINDOW = 256
_LONGEST_JSON_WORD = len("-Infinity")
_MAX_DIGITS = 9  # of a side in "Size"
_LARGEST_WHOLE = 2**63
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
            first_width, first_height = _size_written(recipe)
            pairs.append((SIZE, f"{first_width}x{first_height}"))
        elif declared.name in _HIRES_FIELDS:
            pairs += _hires_pair(recipe, declared, value)
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


def _a1111_hires(recipe: Recipe) -> bool:
    """Whether the recipe is a text-to-image picture that had a hires pass (`hires` then holds its
    factor): the one form AUTOMATIC1111's hires fix can redo."""
    try:
        ran = math.isfinite(float(recipe.hires))
    except ValueError:
        return False
    return ran and recipe.strength is None and Mode(recipe.mode) == Mode.TXT2IMG


def _size_written(recipe: Recipe) -> tuple[int, int]:
    """`Size`: the first pass's, as AUTOMATIC1111 writes it, when a hires fix ran."""
    if _a1111_hires(recipe):
        return first_pass_size(recipe.hires, recipe.width, recipe.height)
    return recipe.width, recipe.height


def _hires_pair(recipe: Recipe, declared: Field[Any], value: object) -> list[tuple[str, str]]:
    """A hires setting's pair: AUTOMATIC1111's key when a hires pass ran (A1111 turns hires fix on
    when it sees them), otherwise, when not the default, Sfumato's own key, which A1111 ignores."""
    if not _a1111_hires(recipe):
        return [(_SFUMATO_HIRES[declared.name], _format_value(value))] if value != declared.default else []
    if declared.name == "hires_steps" and not value:
        return []
    pairs = [(_KEY_OF[declared.name], _format_value(value))]
    if declared.name == "hires":
        pairs.append((HIRES_RESIZE, f"{recipe.width}x{recipe.height}"))
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
    except (ValueError, RecursionError):
        return False


def _format_number(number: float) -> str:
    number = float(number)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


# ---- reading ------------------------------------------------------------------------------------


def parse_parameters(text: str) -> Recipe:
    """A Recipe from AUTOMATIC1111 "parameters" text (ours or AUTOMATIC1111's own).

    Keys that are missing take the Recipe defaults; keys a Recipe does not model go to `extras`.
    Any text is read in time proportional to its length, or refused with a BadInput."""
    if len(text) > MAX_RECIPE_TEXT:
        raise BadInput(
            f"The settings text is {len(text):,} characters long, more than the {MAX_RECIPE_TEXT:,} Sfumato "
            "reads; it is probably damaged."
        )
    lines = text.strip().split("\n")
    values = _parameter_values(lines[-1])
    prompt, negative = _split_prompts(lines[:-1])
    prompt = values.pop(SFUMATO_PROMPT, prompt)
    negative = values.pop(SFUMATO_NEGATIVE, negative)

    written_mode = _mode_named(values.pop(SFUMATO_MODE, ""))
    is_hires_txt2img = (
        any(key in values for key in _HIRES_KEYS)
        and _SFUMATO_HIRES["hires_strength"] not in values
        and written_mode in (None, Mode.TXT2IMG)
    )
    sampler = _pop_sampler(values)
    width, height = _pop_size(values)
    factor_from_size = None
    if is_hires_txt2img:
        width, height, factor_from_size = _hires_frame(values, width, height, ours=written_mode is not None)
    read: dict[str, Any] = {}
    for declared in fields(Recipe):
        if declared.name not in _KEY_OF:
            continue
        # A hires-fix "Denoising strength" belongs to the second pass.
        other_pass = declared.name == ("strength" if is_hires_txt2img else "hires_strength")
        value = None if other_pass else _pop_typed(values, _KEY_OF[declared.name], str(declared.type))
        if declared.name in _HIRES_FIELDS:
            own = _pop_typed(values, _SFUMATO_HIRES[declared.name], str(declared.type))
            value = own if own is not None else value
        if value is not None:
            read[declared.name] = value
    if factor_from_size is not None and "hires" not in read:
        read["hires"] = factor_from_size
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
        end = _comma_or_end(line, position)
        colon = line.find(":", position, end)
        key = line[position:colon].strip() if colon >= 0 else ""
        if not _KEY.fullmatch(key):
            word = line[position:end].strip()
            if _KEY_NAME.fullmatch(word):
                pairs.append((word, word))
            position = end + 1
            continue
        value, position = _read_value(line, _skip_spaces(line, colon + 1))
        pairs.append((key, value))
    return pairs


def _read_value(line: str, start: int) -> tuple[str, int]:
    """The value starting at `start` and the position just past its comma."""
    if line.startswith(('"', "{", "["), start):
        decoded = _json_at(line, start)
        if decoded is not None:
            value, end = decoded
            after = _skip_spaces(line, end)
            if after == len(line) or line[after] == ",":
                if line[start] == '"' and isinstance(value, str):
                    return value, after + 1
                return line[start:end], after + 1
    end = _comma_or_end(line, start)
    return line[start:end].strip(), end + 1


def _json_at(line: str, start: int) -> tuple[object, int] | None:
    """The JSON value at `start` and where it ends, or None when there is none.

    The decoder is shown a window of the line that grows only while the value runs past its end:
    a decoding error costs time in proportion to the text it is given, so handing it the whole rest
    of the line for every value would make a line of many broken values take quadratic time."""
    window = _FIRST_JSON_WINDOW
    while True:
        piece = line[start : start + window]
        whole = start + window >= len(line)
        try:
            # The sentinel (a control character, never valid JSON) makes a value cut off by the
            # window fail at the window's end rather than look complete.
            value, end = _JSON.raw_decode(piece + "\0")
        except json.JSONDecodeError as error:
            if whole or error.pos < len(piece) - _LONGEST_JSON_WORD:
                return None  # not JSON after all: read as a plain value
            window *= 4
            continue
        except RecursionError:
            raise _nested_too_deep() from None
        if _depth(value) > MAX_NESTING:
            raise _nested_too_deep()
        return value, start + end


def _depth(value: object) -> int:
    """How deeply lists and objects nest in a decoded JSON value (without recursion)."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, level = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in children)
    return deepest


def _nested_too_deep() -> BadInput:
    return BadInput(
        f"A setting nests lists or objects more than {MAX_NESTING} deep; the settings are probably damaged."
    )


def _comma_or_end(line: str, start: int) -> int:
    comma = line.find(",", start)
    return len(line) if comma < 0 else comma


def _skip_spaces(line: str, start: int) -> int:
    return _SPACES.match(line, start).end()  # type: ignore[union-attr]  # \s* always matches


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


def _pop_size(values: dict[str, str], key: str = SIZE) -> tuple[int, int]:
    size = values.pop(key, None)
    if size is None:
        return _DEFAULTS.width, _DEFAULTS.height
    match = _SIZE_VALUE.fullmatch(size)
    if match is None:
        raise BadInput(f'The setting "{key}" is "{quoted(size)}"; it should be width x height, like 512x768.')
    width, height = match.group(1), match.group(2)
    if max(len(width), len(height)) > _MAX_DIGITS:
        raise BadInput(f'The setting "{key}" is "{quoted(size)}", far larger than any picture.')
    return int(width), int(height)


def _hires_frame(
    values: dict[str, str], width: int, height: int, *, ours: bool
) -> tuple[int, int, str | None]:
    """The final frame of a hires-fix picture whose `Size` reads `width` × `height`, and the factor
    when the text names only a target size. `ours`: a Sfumato file (without `Hires resize`, an
    older one, whose `Size` was the final frame)."""
    target = _pop_size(values, HIRES_RESIZE) if HIRES_RESIZE in values else (0, 0)
    if target != (0, 0):
        final = _a1111_target(width, height, *target)
        if "Hires upscale" in values or not width or not height:
            return *final, None
        return *final, _format_number(round(max(final[0] / width, final[1] / height), 2))
    factor = _factor_or_none(values.get("Hires upscale", ""))
    # A1111 turns hires fix on only with a "Denoising strength" for it.
    if ours or FIRST_PASS_SIZE in values or factor is None or _KEY_OF["strength"] not in values:
        return width, height, None
    if max(width, height) * factor >= 10**_MAX_DIGITS:
        raise BadInput(f'The setting "Hires upscale" is "{quoted(values["Hires upscale"])}", far too large.')
    return int(width * factor), int(height * factor), None  # as A1111 rounds


def _a1111_target(width: int, height: int, resize_width: int, resize_height: int) -> tuple[int, int]:
    """AUTOMATIC1111's hires target: a side given as 0 follows the first pass's aspect."""
    if resize_width == 0 and height:
        return resize_height * width // height, resize_height
    if resize_height == 0 and width:
        return resize_width, resize_width * height // width
    return resize_width, resize_height


def _factor_or_none(text: str) -> float | None:
    try:
        factor = float(text)
    except ValueError:
        return None
    return factor if math.isfinite(factor) and factor > 0 else None


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
    number: int | None = None
    with contextlib.suppress(ValueError):
        number = int(text)
    with contextlib.suppress(ValueError, OverflowError):
        written = float(text)  # "20.0"
        if number is None and written.is_integer():
            number = int(written)
    if number is None:
        raise BadInput(f'The setting "{key}" is "{quoted(text)}"; it should be a whole number.')
    if abs(number) >= _LARGEST_WHOLE:
        raise BadInput(f'The setting "{key}" is "{quoted(text)}", far larger than it can be.')
    return number


def _pop_optional_float(values: dict[str, str], key: str) -> float | None:
    text = values.pop(key, None)
    if text is None:
        return None
    with contextlib.suppress(ValueError):
        number = float(text)
        if math.isfinite(number):
            return number
    raise BadInput(f'The setting "{key}" is "{quoted(text)}"; it should be a number.')


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
    """The "parameters" text of a PNG, read from its chunks alone: the pixels are not decoded, and
    every size is checked before it is read or decompressed."""
    try:
        with path.open("rb") as file:
            if file.read(len(_PNG_SIGNATURE)) != _PNG_SIGNATURE:
                raise BadInput(_not_png_message(path))
            return _parameters_chunk_text(file, path.name)
    except FileNotFoundError:
        raise BadInput(f'"{path}" does not exist. It may have been moved or deleted.') from None
    except PermissionError:
        raise BadInput(f'"{path}" cannot be opened: you do not have permission to read it.') from None
    except IsADirectoryError:
        raise BadInput(f'"{path}" is a folder, not a PNG image.') from None
    except (OSError, ValueError, EOFError, struct.error, zlib.error) as error:
        raise _damaged(path.name) from error


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
_KEYWORD_BYTES = 80  # a PNG keyword is 1 to 79 bytes, then a zero byte
_MAX_TEXT_BYTES = 4 * MAX_RECIPE_TEXT  # UTF-8 takes up to 4 bytes a character


def _parameters_chunk_text(file: BinaryIO, name: str) -> str | None:
    text: str | None = None
    for _ in range(MAX_PNG_CHUNKS):
        length, kind = struct.unpack(">I4s", _read_exactly(file, 8))
        if length >= 2**31:
            raise _damaged(name)
        if kind == b"IEND":
            return text
        if kind not in _TEXT_CHUNKS:
            file.seek(length + 4, 1)  # data and CRC
            continue
        start = _read_exactly(file, min(length, _KEYWORD_BYTES))
        if not start.startswith(PARAMETERS_CHUNK.encode() + b"\0"):
            file.seek(length - len(start) + 4, 1)
            continue
        if length > _MAX_TEXT_BYTES + _KEYWORD_BYTES:
            raise _too_large(name)
        data = start + _read_exactly(file, length - len(start))
        (crc,) = struct.unpack(">I", _read_exactly(file, 4))
        if zlib.crc32(kind + data) != crc:
            raise _damaged(name)
        text = _chunk_text(kind, data[len(PARAMETERS_CHUNK) + 1 :], name)  # the last one counts
    raise _damaged(name)  # no end in sight: not a real PNG


def _chunk_text(kind: bytes, body: bytes, name: str) -> str:
    """The text of a tEXt, zTXt or iTXt chunk body (what follows the keyword and its zero byte)."""
    if kind == b"tEXt":
        return body.decode("latin-1")
    if kind == b"zTXt":
        return _inflated(body[1:], name).decode("latin-1")
    compressed, _method = body[0], body[1]
    _language, _, rest = body[2:].partition(b"\0")
    _translated, _, encoded = rest.partition(b"\0")
    if compressed:
        encoded = _inflated(encoded, name)
    try:
        return encoded.decode("utf-8")
    except UnicodeDecodeError:
        raise _damaged(name) from None


def _inflated(data: bytes, name: str) -> bytes:
    inflater = zlib.decompressobj()
    text = inflater.decompress(data, _MAX_TEXT_BYTES + 1)
    if len(text) > _MAX_TEXT_BYTES:
        raise _too_large(name)
    if not inflater.eof:
        raise _damaged(name)
    return text


def _read_exactly(file: BinaryIO, size: int) -> bytes:
    data = file.read(size)
    if len(data) != size:
        raise EOFError("the file ends early")
    return data


def _not_png_message(path: Path) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # only the format's name is wanted, not the picture
            with Image.open(path) as picture:
                kind = picture.format
    except Exception:
        kind = None
    if kind is None:
        return _damaged(path.name).message
    return f'"{path.name}" is a {kind} image, not a PNG; only PNG files are read.'


def _damaged(name: str) -> BadInput:
    return BadInput(
        f'"{name}" could not be read as a PNG image. The file may be damaged, incomplete or not an '
        "image at all."
    )


def _too_large(name: str) -> BadInput:
    return BadInput(
        f'The settings stored in "{name}" are more than {MAX_RECIPE_TEXT:,} characters long; the file '
        "is probably damaged."
    )
