"""Importing the artist's own checkpoints, embeddings and LoRAs: checked, registered, never moved."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from sfumato.core.api import ModelInvalid, SfumatoError
from sfumato.core.models.imports import import_checkpoint, import_embedding, import_file, import_lora
from sfumato.core.models.library import ImportKind, list_imports
from sfumato.core.models.source import SourceKind, resolve_model
from sfumato.core.paths import data_dir
from tests.core.models.addon_files import a1111_embedding, diffusers_embedding, kohya_lora, peft_lora, write


def test_a_checkpoint_is_registered_beside_the_artists_file_which_stays_where_it_was(
    user_checkpoint: Path,
) -> None:
    original = user_checkpoint.read_bytes()

    record = import_checkpoint(user_checkpoint)

    assert user_checkpoint.read_bytes() == original
    assert record.file.read_bytes() == original and record.file != user_checkpoint
    assert record.file.stat().st_ino == user_checkpoint.stat().st_ino  # a hard link takes no extra space
    assert (record.name, record.kind, record.base, record.variant) == (
        "My-Model-v2",
        "checkpoint",
        "sd1",
        "normal",
    )
    assert record.sha256 == hashlib.sha256(original).hexdigest() and record.short_hash == record.sha256[:10]
    sidecar = json.loads(record.sidecar.read_text("utf-8"))
    assert sidecar["sha256"] == record.sha256 and sidecar["source_path"] == str(user_checkpoint.resolve())
    assert list_imports() == [record]
    # The name is enough to load it.
    source = resolve_model("My-Model-v2")
    assert (source.path, source.kind, source.name) == (record.file, SourceKind.SINGLE_FILE, "My-Model-v2")


def test_importing_the_same_file_again_gives_the_same_import_and_names_never_clash(
    user_checkpoint: Path, tiny_inpaint_checkpoint: Path, tmp_path: Path
) -> None:
    first = import_checkpoint(user_checkpoint)
    assert import_file(user_checkpoint) == first

    other = tmp_path / "elsewhere" / user_checkpoint.name
    other.parent.mkdir()
    other.write_bytes(tiny_inpaint_checkpoint.read_bytes())
    second = import_checkpoint(other)
    renamed_copy = tmp_path / "copy.safetensors"
    renamed_copy.write_bytes(tiny_inpaint_checkpoint.read_bytes())
    third = import_file(renamed_copy)

    assert second.name == "My-Model-v2-2" and second.variant == "inpainting"
    assert third == second  # same contents: already imported
    assert {record.name for record in list_imports()} == {"My-Model-v2", "My-Model-v2-2"}


def test_a_file_named_like_a_catalog_model_gets_a_name_of_its_own(
    tiny_checkpoint: Path, tmp_path: Path
) -> None:
    named = tmp_path / "openjourney.safetensors"
    named.write_bytes(tiny_checkpoint.read_bytes())

    record = import_checkpoint(named)

    assert record.name == "openjourney-2"
    assert resolve_model("openjourney-2").path == record.file


def test_a_copy_is_made_where_a_link_is_impossible(
    user_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cross_drive(source: object, target: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_drive)

    record = import_checkpoint(user_checkpoint)

    assert record.file.stat().st_ino != user_checkpoint.stat().st_ino
    assert record.file.read_bytes() == user_checkpoint.read_bytes()
    assert not any(record.file.parent.parent.joinpath(".staging").iterdir())


@pytest.mark.parametrize(
    ("make", "width", "kind", "base", "prefix"),
    [
        (a1111_embedding, 768, ImportKind.EMBEDDING, "sd1", "embedding:"),
        (diffusers_embedding, 1024, ImportKind.EMBEDDING, "sd2", "embedding:"),
        (kohya_lora, 768, ImportKind.LORA, "sd1", "lora:"),
        (peft_lora, 1024, ImportKind.LORA, "sd2", "lora:"),
    ],
)
def test_embeddings_and_loras_are_recognised_from_their_tensors(
    make: object, width: int, kind: ImportKind, base: str, prefix: str, tmp_path: Path
) -> None:
    assert callable(make)
    path = make(tmp_path / "style.safetensors", width)

    record = import_file(path)

    assert (record.kind, record.base, record.id) == (kind, base, prefix + "style")
    assert load_file(record.file).keys() == load_file(path).keys()
    specific = import_embedding if kind is ImportKind.EMBEDDING else import_lora
    assert specific(path) == record


def test_each_kind_is_refused_when_passed_as_another(tiny_checkpoint: Path, tmp_path: Path) -> None:
    lora = kohya_lora(tmp_path / "lora.safetensors", 768)
    embedding = a1111_embedding(tmp_path / "embedding.safetensors", 768)

    refusals = {
        "checkpoint as LoRA": (import_lora, tiny_checkpoint, "is a full model (checkpoint), not a LoRA"),
        "LoRA as checkpoint": (import_checkpoint, lora, "is a LoRA, not a full model"),
        "embedding as LoRA": (import_lora, embedding, "is a textual-inversion embedding, not a LoRA"),
        "LoRA as embedding": (import_embedding, lora, "is a LoRA, not a textual-inversion embedding"),
        "checkpoint as embedding": (import_embedding, tiny_checkpoint, "not a textual-inversion embedding"),
    }
    for case, (importer, path, expected) in refusals.items():
        with pytest.raises(ModelInvalid) as refused:
            importer(path)
        assert expected in refused.value.message, case
        assert path.name in refused.value.message, case
    assert list_imports() == []


def test_files_sfumato_cannot_use_are_refused_with_clear_messages(
    tiny_checkpoint: Path, tmp_path: Path
) -> None:
    unet = "model.diffusion_model."
    sdxl_checkpoint = write(
        tmp_path / "xl.safetensors",
        {
            unet + "input_blocks.0.0.weight": (8, 4, 1, 1),
            "conditioner.embedders.0.transformer.text_model.embeddings.position_embedding.weight": (2, 8),
        },
    )
    no_vae = tmp_path / "no-vae.safetensors"
    save_file(
        {k: v for k, v in load_file(tiny_checkpoint).items() if not k.startswith("first_stage_model.")},
        no_vae,
    )
    vae = write(
        tmp_path / "vae.safetensors", {"encoder.conv_in.weight": (8, 3, 3, 3), "decoder.conv_in.bias": (8,)}
    )
    pickle_file = tmp_path / "old.safetensors"
    torch.save({"weight": torch.ones(2)}, pickle_file)
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(tiny_checkpoint.read_bytes()[:5000])

    refusals = {
        sdxl_checkpoint: "Stable Diffusion XL (SDXL) checkpoint",
        peft_lora(tmp_path / "xl-lora.safetensors", 2048): "Stable Diffusion XL (SDXL) LoRA",
        write(tmp_path / "xl-emb.safetensors", {"clip_l": (2, 768), "clip_g": (2, 1280)}): "(SDXL) embedding",
        no_vae: "no VAE inside, so it is only part of a model",
        vae: "a VAE",
        pickle_file: "sfumato models convert",
        damaged: "corrupt or incomplete",
    }
    for path, expected in refusals.items():
        with pytest.raises(SfumatoError) as refused:
            import_file(path)
        assert expected in refused.value.message, path.name
    assert list_imports() == []
    assert not list(data_dir().rglob("*.safetensors"))


@pytest.mark.parametrize("relative", [False, True])
def test_a_symbolic_link_is_imported_as_the_file_it_names(
    user_checkpoint: Path, tmp_path: Path, relative: bool
) -> None:
    links = tmp_path / "links"
    links.mkdir()
    link = links / "linked.safetensors"
    link.symlink_to(os.path.relpath(user_checkpoint, links) if relative else user_checkpoint)
    original = user_checkpoint.read_bytes()

    record = import_checkpoint(link)
    user_checkpoint.rename(tmp_path / "moved.safetensors")  # the artist tidies up their downloads

    assert not record.file.is_symlink() and record.file.read_bytes() == original
    assert record.name == "linked"
    assert resolve_model("linked").path == record.file


def test_a_failed_import_leaves_nothing_that_blocks_the_name(user_checkpoint: Path, tmp_path: Path) -> None:
    dangling = tmp_path / "gone.safetensors"
    dangling.symlink_to(tmp_path / "nowhere.safetensors")
    with pytest.raises(SfumatoError):
        import_checkpoint(dangling)
    folder = data_dir() / "models" / "checkpoints"
    assert not folder.exists() or not any(folder.iterdir())
    folder.mkdir(parents=True, exist_ok=True)
    # A stray file from an interrupted import does not make later imports of that name fail.
    (folder / "My-Model-v2.safetensors").write_bytes(b"partial")

    record = import_checkpoint(user_checkpoint)

    assert record.name == "My-Model-v2-2" and record.file.read_bytes() == user_checkpoint.read_bytes()
