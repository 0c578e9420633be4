from __future__ import annotations

import pytest

from sfumato.core.api import ModelNotFound
from sfumato.core.models.catalog import EntryKind, catalog, entry, find_entry

REQUIRED_REPOS = {
    "prompthero/openjourney",
    "prompthero/openjourney-v4",
    "stable-diffusion-v1-5/stable-diffusion-v1-5",
    "stable-diffusion-v1-5/stable-diffusion-inpainting",
    "nousr/robo-diffusion",
    "nitrosocke/Arcane-Diffusion",
    "nitrosocke/mo-di-diffusion",
    "madebyollin/taesd",
}


def test_the_catalog_offers_the_community_models_artists_ask_for() -> None:
    repos = {e.repo for e in catalog()}
    assert repos >= REQUIRED_REPOS
    assert any(e.name.startswith("Anything V3") for e in catalog())


def test_every_entry_tells_the_artist_what_they_are_getting() -> None:
    ids = [e.id for e in catalog()]
    assert len(ids) == len(set(ids))
    for item in catalog():
        assert item.name and item.description and item.licence
        assert item.size_bytes > 0 and item.resolution in (512, 768)
        if item.kind is EntryKind.CHECKPOINT:
            assert item.prompt_style


def test_inpainting_models_are_marked() -> None:
    assert entry("sd15-inpainting").inpainting
    assert not entry("sd15").inpainting


def test_entries_are_found_by_id_or_repo() -> None:
    assert entry("openjourney").repo == "prompthero/openjourney"
    assert find_entry("PROMPTHERO/openjourney-v4") == entry("openjourney-v4")
    with pytest.raises(ModelNotFound, match="not in the catalog"):
        entry("no-such-model")
