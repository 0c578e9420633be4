"""LoRAs and embeddings named in a prompt, read the way AUTOMATIC1111 reads them (no torch here: the
command line checks prompts with it before any engine starts).

  <lora:NAME>            the LoRA NAME at weight 1, on the text encoder and the UNet
  <lora:NAME:W>          at weight W on both
  <lora:NAME:TE:UNET>    text encoder at TE, UNet at UNET (AUTOMATIC1111's order); also
                         <lora:NAME:W:unet=U> / te=T by name. `<lyco:...>` is read as `<lora:...>`.
The tags are taken out of the text CLIP reads; they may stand in the positive or the negative prompt.
An embedding is used wherever its name stands in the prompt as a word of its own (any case).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sfumato.core.api import BadInput
from sfumato.core.limits import quoted

MAX_LORA_WEIGHT = 100.0

_TAG = re.compile(r"<(lora|lyco|hypernet):([^<>]*)>", re.IGNORECASE)


@dataclass(frozen=True)
class LoraTag:
    """One `<lora:...>` tag: which LoRA, at what weight on the text encoder and on the UNet."""

    name: str
    text_encoder_weight: float
    unet_weight: float
    written: str  # the tag as it stands in the prompt


def lora_tags(prompt: str) -> list[LoraTag]:
    """The `<lora:...>` tags of `prompt`, in order; a weight that is not a number is refused."""
    return [_read_tag(match) for match in _TAG.finditer(prompt)]


def lora_tag_spans(prompt: str) -> list[tuple[int, int, str]]:
    """(start, end, LoRA name) of each `<lora:...>` tag, however it is written (for highlighting)."""
    return [
        (match.start(), match.end(), match.group(2).split(":")[0].strip())
        for match in _TAG.finditer(prompt)
        if match.group(1).lower() != "hypernet"
    ]


def without_lora_tags(prompt: str) -> str:
    """`prompt` as CLIP should read it: the `<lora:...>` tags taken out."""
    return _TAG.sub("", prompt)


def _read_tag(match: re.Match[str]) -> LoraTag:
    written = match.group(0)
    if match.group(1).lower() == "hypernet":
        raise BadInput(
            f'The prompt names a hypernetwork ("{quoted(written)}"); Sfumato uses LoRAs and embeddings '
            "but not hypernetworks. Remove it from the prompt."
        )
    items = [item.strip() for item in match.group(2).split(":")]
    name = items[0]
    if not name:
        raise BadInput(f'"{quoted(written)}" names no LoRA; write it as <lora:NAME> or <lora:NAME:0.8>.')
    positional = [item for item in items[1:] if "=" not in item]
    named = dict(item.split("=", 1) for item in items[1:] if "=" in item)
    te = _weight(positional[0], written) if positional else 1.0
    te = _weight(named["te"], written) if "te" in named else te
    unet = _weight(positional[1], written) if len(positional) > 1 else te
    unet = _weight(named["unet"], written) if "unet" in named else unet
    unknown = sorted(set(named) - {"te", "unet"})
    if unknown or len(positional) > 2:
        raise BadInput(
            f'"{quoted(written)}" has more than Sfumato understands; write <lora:NAME:WEIGHT> or '
            "<lora:NAME:TEXT_ENCODER_WEIGHT:UNET_WEIGHT>."
        )
    return LoraTag(name=name, text_encoder_weight=te, unet_weight=unet, written=written)


def _weight(text: str, written: str) -> float:
    try:
        weight = float(text.strip())
    except ValueError:
        weight = math.nan
    if not math.isfinite(weight):
        raise BadInput(
            f'The LoRA weight "{quoted(text)}" in "{quoted(written)}" is not a number; '
            "write a number such as <lora:NAME:0.8>."
        )
    if abs(weight) > MAX_LORA_WEIGHT:
        raise BadInput(
            f'The LoRA weight {text} in "{quoted(written)}" is too large; use -{MAX_LORA_WEIGHT:g} to '
            f"{MAX_LORA_WEIGHT:g} (1 is full strength)."
        )
    return weight


def embedding_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """Matches any of the embedding `names` standing as a word of its own, ignoring case; longer names
    first, so `style-2` wins over `style`. None when there are no names."""
    ordered = sorted({name for name in names if name}, key=len, reverse=True)
    if not ordered:
        return None
    alternatives = "|".join(re.escape(name) for name in ordered)
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


def mentioned_embeddings(prompt: str, names: Iterable[str]) -> list[str]:
    """The embeddings among `names` that `prompt` uses (each once, in `names`' spelling)."""
    pattern = embedding_pattern(names)
    if pattern is None:
        return []
    by_key = {name.casefold(): name for name in names}
    text = without_lora_tags(prompt)
    found = dict.fromkeys(by_key[match.group(0).casefold()] for match in pattern.finditer(text))
    return list(found)
