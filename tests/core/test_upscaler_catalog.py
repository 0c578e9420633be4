"""Catalog upscalers download like any model (from the hub, checksum checked) and are then used by id."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import save

from sfumato.core.api import ModelInvalid, ModelNotFound
from sfumato.core.devices import pick_device
from sfumato.core.upscalers.catalog import (
    UpscalerEntry,
    download_upscaler,
    downloaded_file,
    find_upscaler_entry,
    upscaler_catalog,
)
from sfumato.core.upscalers.enlarge import enlarge, upscaler_label
from sfumato.core.upscalers.library import installed_upscalers
from tests.core.catalog.recorded import size_bounds
from tests.support.fake_hub import FakeHub, FakeRepo
from tests.support.tiny_upscalers import original_esrgan_names, tiny_rrdbnet


def tiny_ultrasharp() -> bytes:
    """A tiny ESRGAN in 4x-UltraSharp's (the original ESRGAN) layout."""
    weights = original_esrgan_names(tiny_rrdbnet(doublings=2))
    return save({key: tensor.contiguous() for key, tensor in weights.items()})


def test_the_catalog_offers_ultrasharp_and_real_esrgan_as_single_safetensors_files() -> None:
    entries = {entry.id: entry for entry in upscaler_catalog()}
    assert {"4x-ultrasharp", "realesrgan-x4"} <= entries.keys()
    for entry in entries.values():
        assert entry.file.endswith(".safetensors") and entry.scale in (2, 4) and entry.licence


def test_a_catalog_upscaler_downloads_and_is_then_used_by_its_id(hf_cache: Path, hub: FakeHub) -> None:
    entry = find_upscaler_entry("4x-UltraSharp")
    assert entry is not None
    with pytest.raises(ModelNotFound, match="sfumato models download 4x-ultrasharp"):
        enlarge(np.zeros((8, 8, 3), np.uint8), (32, 32), entry.id, pick_device("cpu"))
    content = tiny_ultrasharp()
    hub.add(FakeRepo(entry.repo, {entry.file: content}))
    # The stand-in weights are not the published file, so the catalog's checksum is that of the stand-in.
    stand_in = replace(entry, sha256=hashlib.sha256(content).hexdigest())
    path = download_upscaler(stand_in, on_progress=lambda progress: None, cancel=threading.Event())
    assert path.read_bytes() == content and downloaded_file(entry) == path
    assert entry.id in installed_upscalers()
    assert upscaler_label(entry.id) == "4x-UltraSharp"
    assert enlarge(np.zeros((8, 8, 3), np.uint8), (32, 32), entry.id, pick_device("cpu")).shape == (32, 32, 3)


def test_a_file_that_changed_since_the_catalog_recorded_it_is_refused(hf_cache: Path, hub: FakeHub) -> None:
    entry = find_upscaler_entry("4x-ultrasharp")
    assert entry is not None and entry.sha256 is not None
    hub.add(FakeRepo(entry.repo, {entry.file: tiny_ultrasharp()}))
    with pytest.raises(ModelInvalid, match="checksum changed"):
        download_upscaler(entry, on_progress=lambda progress: None, cancel=threading.Event())
    assert downloaded_file(entry) is None


LISTINGS = Path(__file__).parent / "catalog" / "upscaler_listings"


@pytest.mark.parametrize("entry", upscaler_catalog(), ids=lambda entry: entry.id)
def test_each_upscaler_entry_matches_its_recorded_listing(entry: UpscalerEntry) -> None:
    listing = json.loads((LISTINGS / f"{entry.id}.json").read_text("utf-8"))
    assert (listing["repo"], listing["commit"]) == (entry.repo, entry.revision)
    recorded = {item["path"]: item for item in listing["files"]}
    assert entry.file in recorded, f"{entry.repo} does not list {entry.file}"
    low, high = size_bounds(recorded[entry.file]["size_text"])
    assert low <= entry.size_bytes <= high
    assert recorded[entry.file].get("sha256") == entry.sha256
