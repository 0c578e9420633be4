"""Finding the LoRAs and embeddings a prompt names, and checking they fit the model, from file headers
only (no torch, no weights read), so a wrong name or a LoRA for another model is refused before
anything loads.

Add-ons come from the artist's imports (`sfumato models list`) and from the ones shipped beside the
demo model (`resources/demo-addons/loras/*.safetensors`, `resources/demo-addons/embeddings/*.safetensors`).
A LoRA may also be named by the path of its `.safetensors` file.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from sfumato.core.api import BadInput, ModelInvalid
from sfumato.core.limits import quoted
from sfumato.core.models.file_kind import TEXT_WIDTHS, lora_widths
from sfumato.core.models.hashing import file_sha256
from sfumato.core.models.library import WEIGHTS_SUFFIX, ImportKind, list_imports
from sfumato.core.models.safetensors_header import read_header
from sfumato.core.models.source import SourceKind, resolve_model
from sfumato.core.prompt_addons import LoraTag, lora_tags, mentioned_embeddings

DEMO_ADDONS_FOLDER = "demo-addons"
_UNSUPPORTED_LORAS = {
    "hada_w1": "LoHa (LyCORIS)",
    "lokr_w1": "LoKr (LyCORIS)",
    "lora_mid": "LoCon with a middle (Tucker) layer",
    "dora_scale": "DoRA",
}
_DEMO_SUBFOLDERS = {ImportKind.LORA: "loras", ImportKind.EMBEDDING: "embeddings"}


@dataclass(frozen=True)
class AddOn:
    name: str
    kind: ImportKind
    file: Path


@dataclass(frozen=True)
class UsedLora:
    addon: AddOn
    text_encoder_weight: float
    unet_weight: float


@dataclass(frozen=True)
class PromptAddons:
    """The LoRAs (with weights) and embeddings that a job's prompts use."""

    loras: tuple[UsedLora, ...] = ()
    embeddings: tuple[AddOn, ...] = ()

    def recipe_extras(self) -> dict[str, str]:
        """AUTOMATIC1111's `Lora hashes` and `TI hashes`, as it writes them."""
        extras = {}
        if self.loras:
            extras["Lora hashes"] = ", ".join(
                f"{_hash_label(used.addon.name)}: {lora_hash(used.addon.file)}" for used in self.loras
            )
        if self.embeddings:
            extras["TI hashes"] = ", ".join(
                f"{_hash_label(addon.name)}: {file_sha256(addon.file)[:12]}" for addon in self.embeddings
            )
        return extras


@dataclass(frozen=True)
class ModelWidths:
    """How wide the text is that a model's UNet attends to and its text encoder makes (None: unknown)."""

    cross_attention: int | None
    text: int | None


def demo_addons_dir() -> Path:
    return Path(str(files("sfumato.resources").joinpath(DEMO_ADDONS_FOLDER)))


def installed_addons(kind: ImportKind) -> dict[str, AddOn]:
    """Every add-on of `kind` by its case-folded name: the artist's imports, then the shipped ones."""
    found = {
        record.name.casefold(): AddOn(record.name, kind, record.file)
        for record in list_imports()
        if record.kind is kind and record.file.is_file()
    }
    shipped = demo_addons_dir() / _DEMO_SUBFOLDERS[kind]
    if shipped.is_dir():
        for file in sorted(shipped.glob("*" + WEIGHTS_SUFFIX)):
            found.setdefault(file.stem.casefold(), AddOn(file.stem, kind, file))
    return found


def find_lora(name: str) -> AddOn:
    """The LoRA called `name` (an imported or shipped one, with or without `.safetensors`), or at the
    path `name`."""
    known = installed_addons(ImportKind.LORA)
    key = name.removesuffix(WEIGHTS_SUFFIX).casefold()
    if key in known:
        return known[key]
    path = Path(name).expanduser()
    if path.suffix.lower() == WEIGHTS_SUFFIX and path.is_file():
        return AddOn(path.stem, ImportKind.LORA, path.resolve())
    if path.suffix.lower() in (".pt", ".ckpt", ".bin", ".pth") and path.is_file():
        raise BadInput(
            f'The LoRA "{quoted(name)}" is an old-style pickle file; convert it safely first with '
            f"`sfumato models convert {quoted(name)}`, then name it by its new name."
        )
    listed = ", ".join(addon.name for addon in known.values()) or "none yet"
    raise BadInput(
        f'No LoRA is called "{quoted(name)}" (LoRAs you have: {listed}). Add one with '
        "`sfumato models import FILE`, or give the path of its .safetensors file."
    )


def prompt_addons(prompt: str, negative: str) -> PromptAddons:
    """The add-ons `prompt` and `negative` use; an unknown LoRA or a bad weight is refused."""
    tags: dict[str, tuple[AddOn, LoraTag]] = {}
    for tag in [*lora_tags(prompt), *lora_tags(negative)]:
        addon = find_lora(tag.name)
        tags[addon.name.casefold()] = (addon, tag)  # named twice: the last mention wins
    loras = tuple(UsedLora(addon, tag.text_encoder_weight, tag.unet_weight) for addon, tag in tags.values())
    known = installed_addons(ImportKind.EMBEDDING)
    names = [addon.name for addon in known.values()]
    used = dict.fromkeys(mentioned_embeddings(prompt, names) + mentioned_embeddings(negative, names))
    embeddings = tuple(known[name.casefold()] for name in used)
    return PromptAddons(loras, embeddings)


def checked_prompt_addons(model_reference: str, prompt: str, negative: str) -> PromptAddons:
    """`prompt_addons`, with each add-on checked against the model's widths (headers only)."""
    addons = prompt_addons(prompt, negative)
    if not addons.loras and not addons.embeddings:
        return addons
    widths = model_widths(model_reference)
    for used in addons.loras:
        check_lora_fits(used.addon, widths, model_reference)
    for addon in addons.embeddings:
        check_embedding_fits(addon, widths, model_reference)
    return addons


def model_widths(reference: str) -> ModelWidths:
    source = resolve_model(reference)
    if source.kind is SourceKind.SINGLE_FILE:
        header = read_header(source.path)
        widths = {info.shape[-1] for key, info in header.items() if key.endswith("attn2.to_k.weight")}
        width = widths.pop() if len(widths) == 1 else None
        return ModelWidths(width, width)
    return ModelWidths(
        _config_number(source.path / "unet" / "config.json", "cross_attention_dim"),
        _config_number(source.path / "text_encoder" / "config.json", "hidden_size"),
    )


def _config_number(path: Path, key: str) -> int | None:
    try:
        value = json.loads(path.read_text("utf-8")).get(key)
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def check_lora_fits(addon: AddOn, widths: ModelWidths, model: str) -> None:
    header = read_header(addon.file)
    for marker, what in _UNSUPPORTED_LORAS.items():
        if any(marker in key for key in header):
            raise ModelInvalid(
                f'The LoRA "{addon.name}" is a {what} network, which Sfumato cannot apply yet. '
                "Use a plain LoRA or LoCon."
            )
    cross_attention, text = lora_widths(header)
    for found, wanted, part in (
        (cross_attention, widths.cross_attention, "image model"),
        (text, widths.text, "text encoder"),
    ):
        if wanted is not None and found - {wanted}:
            raise ModelInvalid(
                f'The LoRA "{addon.name}" was made for {_family_words(max(found))}, but the model '
                f'"{quoted(model)}" is {_family_words(wanted)} (its {part} is {wanted} wide, the '
                f"LoRA's {max(found)}). Use a LoRA made for this model."
            )


def check_embedding_fits(addon: AddOn, widths: ModelWidths, model: str) -> None:
    found = {info.shape[-1] for info in read_header(addon.file).values() if info.shape}
    if widths.text is not None and found != {widths.text}:
        width = max(found) if found else 0
        raise ModelInvalid(
            f'The embedding "{addon.name}" was made for {_family_words(width)}, but the model '
            f'"{quoted(model)}" is {_family_words(widths.text)} (its text encoder is {widths.text} '
            f"wide, the embedding's {width}). Use an embedding made for this model."
        )


def _family_words(width: int) -> str:
    family = TEXT_WIDTHS.get(width)
    if family == "sd1":
        return "Stable Diffusion 1.x"
    if family == "sd2":
        return "Stable Diffusion 2.x"
    return f"a model with {width}-wide text"


def _hash_label(name: str) -> str:
    return name.replace(":", "").replace(",", "")


def lora_hash(file: Path) -> str:
    """AUTOMATIC1111's LoRA hash: the first 12 hex digits of the SHA-256 of the tensor data (after the
    safetensors header), as kohya's additional-networks extension computes it."""
    status = file.stat()
    return _lora_hash(file.resolve(), status.st_size, status.st_mtime_ns)


@lru_cache(maxsize=256)
def _lora_hash(file: Path, _size: int, _mtime: int) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        (header_length,) = struct.unpack("<Q", stream.read(8))
        stream.seek(8 + header_length)
        while block := stream.read(8 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()[:12]
