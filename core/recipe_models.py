"""Whether what a recipe names is installed here: its model, and the LoRAs and embeddings its prompts
use, so that re-making an image fails at once, naming what is missing, instead of loading anything.

Only names and small sidecar files are looked at; nothing here imports torch.
"""

from __future__ import annotations

from pathlib import Path

from sfumato.core.api import ModelNotFound, Recipe
from sfumato.core.limits import quoted
from sfumato.core.models.addon_library import installed_addons
from sfumato.core.models.library import WEIGHTS_SUFFIX, ImportKind, list_imports
from sfumato.core.models.source import resolve_model
from sfumato.core.prompt_addons import lora_tag_spans, mentioned_embeddings

EMBEDDING_HASHES = "TI hashes"
MIN_HASH_DIGITS = 8  # fewer could match a checkpoint by chance


def embedding_names(recipe: Recipe) -> list[str]:
    """The embeddings a recipe records in its `TI hashes` (`name: hash, name: hash`)."""
    listed = recipe.extras.get(EMBEDDING_HASHES, "")
    names = (part.split(":", 1)[0].strip() for part in listed.split(","))
    return list(dict.fromkeys(name for name in names if name))


def recipe_model(recipe: Recipe, source: str) -> str:
    """The installed model the recipe was made with (by name, else by its hash), or ModelNotFound
    naming it. `source` names where the recipe came from, for the message."""
    if recipe.model.strip():
        try:
            resolve_model(recipe.model)
            return recipe.model
        except ModelNotFound:
            pass
    by_hash = _checkpoint_with_hash(recipe.model_hash)
    if by_hash is not None:
        return by_hash
    if not recipe.model.strip() and not recipe.model_hash:
        raise ModelNotFound(
            f"The recipe in {source} does not say which model made it. Choose one with --model."
        )
    named = " ".join(
        part
        for part in (f"'{quoted(recipe.model)}'" if recipe.model else "", _hash_note(recipe.model_hash))
        if part
    )
    raise ModelNotFound(
        f"The recipe in {source} was made with the model {named}, which is not installed here. "
        "Install or import it (see `sfumato models list`), or choose another model with --model."
    )


def missing_addons(recipe: Recipe) -> list[str]:
    """Each LoRA and embedding the recipe's prompts use that is not installed, as `LoRA 'name'`."""
    text = f"{recipe.prompt}\n{recipe.negative}"
    loras = installed_addons(ImportKind.LORA)
    named = dict.fromkeys(name for _start, _end, name in lora_tag_spans(text) if name)
    missing = [
        f"LoRA '{quoted(name)}'"
        for name in named
        if name.removesuffix(WEIGHTS_SUFFIX).casefold() not in loras and not Path(name).expanduser().is_file()
    ]
    embeddings = installed_addons(ImportKind.EMBEDDING)
    used = mentioned_embeddings(text, embedding_names(recipe))
    return missing + [f"embedding '{quoted(name)}'" for name in used if name.casefold() not in embeddings]


def check_addons(recipe: Recipe, source: str) -> None:
    missing = missing_addons(recipe)
    if missing:
        listing = ", ".join(missing)
        raise ModelNotFound(
            f"The recipe in {source} uses {listing}, not installed here. Import "
            f"{'it' if len(missing) == 1 else 'them'} with `sfumato models import FILE`, or remove "
            f"{'it' if len(missing) == 1 else 'them'} from the prompt with --prompt / --negative."
        )


def _checkpoint_with_hash(model_hash: str) -> str | None:
    wanted = model_hash.strip().lower()
    if len(wanted) < MIN_HASH_DIGITS:
        return None
    return next(
        (
            record.id
            for record in list_imports()
            if record.kind is ImportKind.CHECKPOINT
            and wanted in (record.short_hash.lower(), record.sha256.lower()[: len(wanted)])
            and record.file.is_file()
        ),
        None,
    )


def _hash_note(model_hash: str) -> str:
    return f"(hash {quoted(model_hash)})" if model_hash else ""
