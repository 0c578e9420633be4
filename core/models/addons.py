"""Putting a job's LoRAs and embeddings onto the loaded model, and taking them off again after it.

A LoRA adds `weight × scale × up(down(x))` to the output of each layer it trains (linear layers, and
the convolutions of LoCon LoRAs). It is applied with forward hooks that are removed when the job ends,
so the model's own weights are never changed: a job without LoRAs afterwards is exactly the bare model,
and another weight needs no reload. The LoRA's matrices, read once, stay cached with the model.
Formats: kohya/AUTOMATIC1111 (`lora_unet_…`/`lora_te_…` with `lora_down`/`lora_up`/`alpha`), PEFT and
diffusers (`unet.…`/`text_encoder.…` with `lora_A`/`lora_B`), and diffusers' older attention-processor
names (`processor.to_q_lora.down`).
Embeddings are returned as vectors by name for the prompt encoder (core/prompts.py), which puts them
in place of their name's tokens; the tokenizer is never changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file

from sfumato.core.api import ModelInvalid
from sfumato.core.models.addon_library import (
    AddOn,
    ModelWidths,
    PromptAddons,
    check_embedding_fits,
    check_lora_fits,
)
from sfumato.core.models.loader import LoadedModel

_DOWN = (
    ".lora_linear_layer.down.weight",
    ".lora_down.weight",
    ".lora_A.default.weight",
    ".lora_A.weight",
    ".down.weight",
)
_UP = tuple(suffix.replace("down", "up").replace("lora_A", "lora_B") for suffix in _DOWN)
_ALPHA = (".alpha",)
_PARTS = ("unet", "text_encoder")
MAX_CACHED = 16  # LoRAs and embeddings kept read per model
_OLD_PROCESSOR = re.compile(r"\.processor\.(to_[qkv]|to_out)_lora$")


@dataclass(frozen=True)
class LoraLayer:
    down: torch.Tensor
    up: torch.Tensor
    scale: float  # alpha / rank

    def delta(self, module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.down.dtype)
        if isinstance(module, torch.nn.Conv2d):
            hidden = F.conv2d(x, self.down, None, module.stride, module.padding, module.dilation)
            return F.conv2d(hidden, self.up)
        return F.linear(F.linear(x, self.down), self.up)


ParsedLora = dict[tuple[str, str], LoraLayer]  # (component, module name) → its low-rank update


def loaded_widths(model: LoadedModel) -> ModelWidths:
    unet, text_encoder = model.components["unet"], model.components["text_encoder"]
    return ModelWidths(int(unet.config.cross_attention_dim), int(text_encoder.config.hidden_size))


@contextmanager
def applied_addons(model: LoadedModel, addons: PromptAddons) -> Iterator[dict[str, torch.Tensor]]:
    """Hook the LoRAs of `addons` onto `model` while the block runs; yields the embeddings' vectors
    by name. Everything is taken off again at the end, whatever happens."""
    widths = loaded_widths(model)
    handles: list[Any] = []
    try:
        terms: dict[tuple[str, str], list[tuple[LoraLayer, float]]] = {}
        for used in addons.loras:
            check_lora_fits(used.addon, widths, model.name)
            for (part, name), layer in _parsed_lora(model, used.addon).items():
                weight = used.unet_weight if part == "unet" else used.text_encoder_weight
                if weight != 0:
                    terms.setdefault((part, name), []).append((layer, weight * layer.scale))
        for (part, name), layer_terms in terms.items():
            module = model.components[part].get_submodule(name)
            handles.append(module.register_forward_hook(_adding(layer_terms)))
        vectors = {}
        for addon in addons.embeddings:
            check_embedding_fits(addon, widths, model.name)
            vectors[addon.name] = _embedding(model, addon)
        yield vectors
    finally:
        for handle in handles:
            handle.remove()


def _adding(terms: list[tuple[LoraLayer, float]]) -> Any:
    def hook(module: torch.nn.Module, args: tuple[Any, ...], output: torch.Tensor) -> torch.Tensor:
        for layer, factor in terms:
            output = output + (layer.delta(module, args[0]) * factor).to(output.dtype)
        return output

    return hook


def _cache_key(model: LoadedModel, kind: str, file: Path) -> tuple[str, str, int, int]:
    """The key `file` is cached under in `model`; makes room for it when the cache is full."""
    status = file.stat()
    key = kind, str(file.resolve()), status.st_size, status.st_mtime_ns
    if key not in model.addon_weights and len(model.addon_weights) >= MAX_CACHED:
        del model.addon_weights[next(iter(model.addon_weights))]  # the one read longest ago
    return key


def _parsed_lora(model: LoadedModel, addon: AddOn) -> ParsedLora:
    key = _cache_key(model, "lora", addon.file)
    if key not in model.addon_weights:
        model.addon_weights[key] = parse_lora(model, addon.name, _read(addon))
    parsed: ParsedLora = model.addon_weights[key]
    return parsed


def _embedding(model: LoadedModel, addon: AddOn) -> torch.Tensor:
    key = _cache_key(model, "embedding", addon.file)
    if key not in model.addon_weights:
        table = model.components["text_encoder"].get_input_embeddings().weight
        found = embedding_vectors(_read(addon), addon.name)
        model.addon_weights[key] = found.to(device=table.device, dtype=table.dtype)
    vectors: torch.Tensor = model.addon_weights[key]
    return vectors


def _read(addon: AddOn) -> dict[str, torch.Tensor]:
    try:
        return load_file(addon.file)
    except (OSError, SafetensorError) as error:
        raise ModelInvalid(f'The {addon.kind} "{addon.name}" could not be read: {error}.') from error


def embedding_vectors(tensors: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """The (tokens, width) vectors of an AUTOMATIC1111, converted .pt or diffusers embedding."""
    if "emb_params" in tensors:
        chosen = [tensors["emb_params"]]
    elif any(key.startswith("string_to_param.") for key in tensors):
        chosen = [value for key, value in tensors.items() if key.startswith("string_to_param.")][:1]
    else:
        chosen = list(tensors.values())
    rows = [vector.reshape(-1, vector.shape[-1]) for vector in chosen if vector.ndim in (1, 2)]
    if not rows or len({row.shape[-1] for row in rows}) != 1:
        raise ModelInvalid(f'The embedding "{name}" holds no usable vectors.')
    return torch.cat(rows).float()


def parse_lora(model: LoadedModel, name: str, tensors: dict[str, torch.Tensor]) -> ParsedLora:
    """Each layer of the LoRA, matched to the module of `model` it changes and checked against it."""
    groups: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in tensors.items():
        for role, suffixes in (("down", _DOWN), ("up", _UP), ("alpha", _ALPHA)):
            suffix = next((s for s in suffixes if key.endswith(s)), None)
            if suffix is not None:
                groups.setdefault(key.removesuffix(suffix), {})[role] = tensor
                break
    lookups = {part: _module_lookup(model.components[part], part) for part in _PARTS}
    parsed: ParsedLora = {}
    misfits: list[str] = []
    for base, group in groups.items():
        place = _place(base, lookups)
        if place is None or "down" not in group or "up" not in group:
            misfits.append(base)
            continue
        module = model.components[place[0]].get_submodule(place[1])
        layer = _layer(module, group)
        if layer is None:
            misfits.append(base)
            continue
        parsed[place] = layer
    if misfits or not parsed:
        example = misfits[0] if misfits else "none"
        raise ModelInvalid(
            f'The LoRA "{name}" does not fit the model "{model.name}": {len(misfits)} of its '
            f"{len(groups)} layers (such as {example}) have no matching layer in it. It was made for "
            "another kind of model."
        )
    return parsed


def _module_lookup(component: torch.nn.Module, part: str) -> dict[str, str]:
    """Module names by their underscored form, as kohya writes them; the text encoder's also with and
    without `text_model_` (transformers 4 keeps its layers under `text_model`, 5 does not)."""
    lookup = {}
    for name, module in component.named_modules():
        if not isinstance(module, torch.nn.Linear | torch.nn.Conv2d):
            continue
        flat = name.replace(".", "_")
        lookup[flat] = name
        if part == "text_encoder":
            lookup[flat.removeprefix("text_model_")] = name
            lookup["text_model_" + flat.removeprefix("text_model_")] = name
    return lookup


def _place(base: str, lookups: dict[str, dict[str, str]]) -> tuple[str, str] | None:
    base = _OLD_PROCESSOR.sub(lambda match: "." + match.group(1).replace("to_out", "to_out.0"), base)
    if base.startswith("lora_unet_"):
        part, flat = "unet", base.removeprefix("lora_unet_")
    elif base.startswith("lora_te_"):
        part, flat = "text_encoder", base.removeprefix("lora_te_")
    elif base.startswith("text_encoder."):
        part, flat = "text_encoder", base.removeprefix("text_encoder.").replace(".", "_")
    else:
        part, flat = "unet", base.removeprefix("unet.").replace(".", "_")
    name = lookups[part].get(flat)
    return None if name is None else (part, name)


def _layer(module: torch.nn.Module, group: dict[str, torch.Tensor]) -> LoraLayer | None:
    weight = cast(torch.Tensor, module.weight)
    down, up = group["down"].to(weight.dtype), group["up"].to(weight.dtype)
    rank = down.shape[0]
    if up.shape[1] != rank:
        return None
    if isinstance(module, torch.nn.Conv2d):
        down = down if down.ndim == 4 else down.reshape(*down.shape[:2], 1, 1)
        up = up if up.ndim == 4 else up.reshape(*up.shape[:2], 1, 1)
        if down.shape[1:] != weight.shape[1:] or up.shape[0] != weight.shape[0] or up.shape[2:] != (1, 1):
            return None
    else:
        down, up = down.reshape(rank, -1), up.reshape(up.shape[0], rank)
        if down.shape[1] != weight.shape[1] or up.shape[0] != weight.shape[0]:
            return None
    alpha = group.get("alpha")
    scale = float(alpha) / rank if alpha is not None and alpha.numel() == 1 else 1.0
    return LoraLayer(down.to(weight.device), up.to(weight.device), scale)
