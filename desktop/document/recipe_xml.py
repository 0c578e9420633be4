"""A `Recipe` as XML attributes in Sfumato's own namespace, restored exactly.

Each field is one attribute (`prompt`, `steps`, `model-hash`, ...). Floats are written with
`repr` so they read back bit for bit; text XML cannot carry (control characters) goes in a
`<field>-json` attribute instead.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from typing import Any

from sfumato.core.api import BadInput, Mode, Recipe

NAMESPACE = "https://sfumato.app/xmlns/openraster/1"
PREFIX = "sfumato"

_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FIELDS = {field.name: field for field in dataclasses.fields(Recipe)}


def xml_safe(text: str) -> str:
    """`text` without the characters XML cannot hold (for names, where exactness does not matter)."""
    return _XML_UNSAFE.sub("", text)


def qualified(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _attribute(field_name: str) -> str:
    return qualified(field_name.replace("_", "-"))


def _encode(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mode):
        return value.value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int | str):
        return str(value)
    return json.dumps(value, ensure_ascii=True, sort_keys=True)


def recipe_to_attributes(recipe: Recipe) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for name in _FIELDS:
        value = getattr(recipe, name)
        if value is None:
            continue
        text = _encode(value)
        if _XML_UNSAFE.search(text):
            attributes[_attribute(name) + "-json"] = json.dumps(text, ensure_ascii=True)
        else:
            attributes[_attribute(name)] = text
    return attributes


def _decode(type_name: str, text: str) -> object:
    base = type_name.replace(" | None", "").strip()
    if base == "str":
        return text
    if base == "int":
        return int(text)
    if base == "float":
        number = float(text)
        if not math.isfinite(number):
            raise ValueError(f"not a finite number: {text}")
        return number
    if base == "bool":
        return {"true": True, "false": False}[text]
    if base == "Mode":
        return Mode(text)
    if base.startswith("dict"):
        decoded = json.loads(text)
        if not isinstance(decoded, dict) or not all(
            isinstance(key, str) and isinstance(item, str) for key, item in decoded.items()
        ):
            raise ValueError("expected a mapping of text to text")
        return decoded
    return json.loads(text)


def recipe_from_attributes(attributes: dict[str, str], where: str) -> Recipe | None:
    """The recipe stored in `attributes`, or None when there is none; `where` names it in errors."""
    values: dict[str, Any] = {}
    for name, field in _FIELDS.items():
        key = _attribute(name)
        try:
            if key + "-json" in attributes:
                text = json.loads(attributes[key + "-json"])
                if not isinstance(text, str):
                    raise ValueError("expected text")
            elif key in attributes:
                text = attributes[key]
            else:
                continue
            values[name] = _decode(str(field.type), text)
        except (ValueError, KeyError, TypeError, RecursionError) as error:  # JSON nested too deep
            raise BadInput(
                f"{where}: the stored generation setting '{name}' is unreadable ({error})."
            ) from error
    if not values:
        return None
    if "prompt" not in values:
        raise BadInput(f"{where}: the stored generation settings have no prompt.")
    try:
        return Recipe(**values)
    except TypeError as error:
        raise BadInput(f"{where}: the stored generation settings are incomplete ({error}).") from error
