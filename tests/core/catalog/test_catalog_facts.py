"""What the catalog tells an artist about each model: sizes, base model, licence, how to prompt it and
the settings it works best with."""

from __future__ import annotations

import pytest

from sfumato.core.models.catalog import CatalogEntry, EntryKind, catalog, entry


@pytest.mark.parametrize("item", catalog(), ids=lambda item: item.id)
def test_each_entry_states_sizes_base_licence_and_settings(item: CatalogEntry) -> None:
    assert 0 < item.download_bytes(fp16=True) <= item.download_bytes(fp16=False)
    assert item.based_on and item.licence_url.startswith("https://")
    for word in item.trigger_words:
        assert word in item.prompt_style
    if item.kind is EntryKind.CHECKPOINT:
        assert item.defaults is not None
        assert (item.defaults.width, item.defaults.height) == (item.resolution, item.resolution)
        assert item.defaults.steps > 0 and item.defaults.guidance > 1


@pytest.mark.parametrize(
    ("model_id", "trigger"),
    [
        ("openjourney", "mdjrny-v4 style"),
        ("robo-diffusion", "nousr robot"),
        ("arcane-diffusion", "arcane style"),
        ("mo-di-diffusion", "modern disney style"),
    ],
)
def test_style_models_name_their_trigger_words(model_id: str, trigger: str) -> None:
    assert entry(model_id).trigger_words == (trigger,)
