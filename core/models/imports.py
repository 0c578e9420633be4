"""Adding the artist's own `.safetensors` files: checkpoints, textual-inversion embeddings and LoRAs.

A file is checked (header, kind, family) and then registered in the models folder (see `library`)
as a hard link, or a copy where a link is impossible, so the artist's file is never moved or changed.
Importing the same file again gives the existing import.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import uuid
from collections.abc import Mapping
from pathlib import Path

from sfumato.core.api import BadInput, ModelInvalid, ModelNotFound
from sfumato.core.models.catalog import catalog
from sfumato.core.models.checkpoint_kind import identify, require_text_encoder_and_vae
from sfumato.core.models.file_kind import FileKind, classify, embedding_base, lora_base
from sfumato.core.models.hashing import file_sha256
from sfumato.core.models.library import (
    DEMO_ID,
    WEIGHTS_SUFFIX,
    ImportedModel,
    ImportKind,
    free_name,
    kind_folder,
    list_imports,
    staging_folder,
    write_sidecar,
)
from sfumato.core.models.safetensors_header import TensorInfo, is_legacy_pickle, read_header

_CHUNK = 8 * 1024 * 1024
_DESCRIPTIONS = {
    FileKind.CHECKPOINT: "a full model (checkpoint)",
    FileKind.EMBEDDING: "a textual-inversion embedding",
    FileKind.LORA: "a LoRA",
}


def import_checkpoint(path: Path) -> ImportedModel:
    """Add a Stable Diffusion 1.x/2.x single-file checkpoint (normal or inpainting)."""
    return import_file(path, expected=FileKind.CHECKPOINT)


def import_embedding(path: Path) -> ImportedModel:
    """Add a textual-inversion embedding for Stable Diffusion 1.x/2.x."""
    return import_file(path, expected=FileKind.EMBEDDING)


def import_lora(path: Path) -> ImportedModel:
    """Add a LoRA for Stable Diffusion 1.x/2.x."""
    return import_file(path, expected=FileKind.LORA)


def import_file(
    path: Path, *, expected: FileKind | None = None, converted_from: Path | None = None, owned: bool = False
) -> ImportedModel:
    """Add `path` as what its contents say it is (or refuse it when that is not `expected`).

    `owned` files (written by Sfumato, such as converted checkpoints) are moved in rather than linked.
    """
    given = Path(path).expanduser()
    display_name = (converted_from or given).name
    _check_is_safetensors(given, display_name)
    # A symbolic link is followed to the file it names: linking the link itself would store a pointer
    # that breaks when the original moves (or, for a relative link, at once).
    path = given.resolve()
    header = read_header(path)
    kind = classify(header)
    if expected is not None and kind is not expected and kind is not FileKind.OTHER:
        raise ModelInvalid(
            f"{display_name} is {_DESCRIPTIONS[kind]}, not {_DESCRIPTIONS[expected]}. "
            f"Add it as {_DESCRIPTIONS[kind]} instead."
        )
    import_kind, base, variant = _describe(header, kind, display_name)

    sha256 = file_sha256(path)
    for existing in list_imports():
        if existing.kind is import_kind and existing.sha256 == sha256 and existing.file.is_file():
            if owned:
                path.unlink(missing_ok=True)
            return existing

    reserved = {entry.id for entry in catalog()} | {DEMO_ID}
    name = free_name((converted_from or given).stem, reserved)
    target = kind_folder(import_kind) / (name + WEIGHTS_SUFFIX)
    _place(path, target, sha256, owned=owned)
    try:
        record = ImportedModel(
            name=name,
            kind=import_kind,
            base=base,
            variant=variant,
            sha256=sha256,
            short_hash=sha256[:10],
            size=_placed_size(target, display_name),
            source_path=str((converted_from or path).resolve()),
            converted_from=str(converted_from.resolve()) if converted_from else None,
            file=target,
        )
        write_sidecar(record)
    except BaseException:
        target.unlink(missing_ok=True)  # nothing half-imported stays behind to block the name
        raise
    return record


def _placed_size(target: Path, name: str) -> int:
    """The size of the file now in the models folder, which must be a regular file of its own."""
    try:
        status = target.lstat()
    except OSError as error:
        raise ModelInvalid(f"{name} could not be added ({error.strerror or error}).") from None
    if not stat.S_ISREG(status.st_mode):
        raise ModelInvalid(f"{name} is not a regular file, so it cannot be added.")
    return status.st_size


def _check_is_safetensors(path: Path, name: str) -> None:
    if not path.exists():
        raise ModelNotFound(f"No file at '{path}'.")
    if path.is_dir():
        raise BadInput(
            f"'{path}' is a folder. Import single .safetensors files; a diffusers model folder can be "
            "used directly by giving its path as the model."
        )
    try:
        with path.open("rb") as file:
            prefix = file.read(9)
    except OSError as error:
        raise ModelInvalid(f"{name} could not be read ({error.strerror or error}).") from None
    if not prefix[8:9] == b"{" and is_legacy_pickle(prefix):
        raise ModelInvalid(
            f"{name} is an old-style pickle file, which can run hidden code when opened, so Sfumato does "
            f"not import it as it is. Convert it safely with `sfumato models convert {path}`."
        )


def _describe(
    header: Mapping[str, TensorInfo], kind: FileKind, name: str
) -> tuple[ImportKind, str | None, str | None]:
    """(what to import it as, family, variant), or a refusal saying why the file cannot be used."""
    if kind is FileKind.CHECKPOINT:
        checkpoint = identify(header, name=name)
        require_text_encoder_and_vae(header, checkpoint.base, name)
        return ImportKind.CHECKPOINT, checkpoint.base, "inpainting" if checkpoint.inpainting else "normal"
    if kind is FileKind.EMBEDDING:
        return ImportKind.EMBEDDING, embedding_base(header, name), None
    if kind is FileKind.LORA:
        return ImportKind.LORA, lora_base(header, name), None
    identify(header, name=name)  # its refusal says what the file looks like (a VAE, a newer model...)
    raise ModelInvalid(f"{name} is not a checkpoint, an embedding or a LoRA that Sfumato can use.")


def _place(source: Path, target: Path, sha256: str, *, owned: bool) -> None:
    if owned:
        os.replace(source, target)
        return
    try:
        os.link(source, target)
        return
    except FileExistsError:
        raise ModelInvalid(
            f"{target.name} already exists in {target.parent}; import {source.name} again."
        ) from None
    except OSError:
        pass  # another drive, or a file system without hard links: copy instead
    staged = staging_folder() / f"{uuid.uuid4().hex}{WEIGHTS_SUFFIX}"
    try:
        if _copy_with_sha256(source, staged) != sha256:
            raise ModelInvalid(
                f"{source.name} changed while it was being copied. Wait until nothing writes to it and "
                "import it again."
            )
        os.replace(staged, target)
    except OSError as error:
        raise ModelInvalid(
            f"Sfumato could not copy {source.name} into its models folder {target.parent} "
            f"({error.strerror or error}). Check the free disk space."
        ) from error
    finally:
        staged.unlink(missing_ok=True)


def _copy_with_sha256(source: Path, target: Path) -> str:
    digest = hashlib.sha256()
    with source.open("rb") as reader, target.open("wb") as writer:
        while block := reader.read(_CHUNK):
            digest.update(block)
            writer.write(block)
    shutil.copystat(source, target)
    return digest.hexdigest()
