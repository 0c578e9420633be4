"""Model ids: paths, catalog ids, Hugging Face repo ids and imported names all lead to loadable files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sfumato.core.api import Finished, ModelInvalid, ModelNotFound, Txt2Img
from sfumato.core.engine import Engine
from sfumato.core.models.source import SourceKind, demo_model_dir, resolve_model
from tests.core.engine_helpers import run_events, terminal
from tests.core.models.conftest import Fetch, go_offline
from tests.support.fake_hub import FakeHub


def test_catalog_and_hub_ids_find_the_recorded_download_offline(
    fetch: Fetch, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog_snapshot = fetch("prompthero/openjourney")
    other_snapshot = fetch("someone/painterly")
    go_offline(hub, monkeypatch)

    by_catalog_id = resolve_model("openjourney")
    assert (by_catalog_id.path, by_catalog_id.kind, by_catalog_id.name) == (
        catalog_snapshot,
        SourceKind.FOLDER,
        "openjourney",
    )
    assert catalog_snapshot.name == hub.repos["prompthero/openjourney"].commit
    assert resolve_model("prompthero/openjourney").path == catalog_snapshot
    assert resolve_model(" someone/painterly ").path == other_snapshot


async def test_the_engine_paints_with_a_catalog_id_as_with_the_model_folder(
    engine: Engine, fetch: Fetch, hub: FakeHub, monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path
) -> None:
    fetch("prompthero/openjourney")
    go_offline(hub, monkeypatch)
    settings: dict[str, Any] = dict(prompt="a red circle", steps=2, width=64, height=64, seed=3)

    by_id = terminal(await run_events(engine, Txt2Img(model="openjourney", **settings)))
    by_folder = terminal(await run_events(engine, Txt2Img(model=str(tiny_model_dir), **settings)))

    assert isinstance(by_id, Finished) and isinstance(by_folder, Finished)
    assert np.array_equal(by_id.images[0], by_folder.images[0])
    assert by_id.recipes[0].model == "openjourney"
    assert by_id.recipes[0].model_hash == by_folder.recipes[0].model_hash


def test_models_not_downloaded_say_how_to_get_them(hf_cache: Path) -> None:
    with pytest.raises(ModelNotFound, match="`sfumato models download openjourney`"):
        resolve_model("openjourney")
    with pytest.raises(ModelNotFound, match="`sfumato models download owner/not-here`"):
        resolve_model("owner/not-here")
    with pytest.raises(ModelNotFound, match="`sfumato models list`"):
        resolve_model("my favourite model")
    with pytest.raises(ModelNotFound, match="No model was given"):
        resolve_model("  ")


def test_local_paths_still_work(tiny_model_dir: Path, tmp_path: Path) -> None:
    assert resolve_model(str(tiny_model_dir)).kind is SourceKind.FOLDER
    legacy = tmp_path / "old.ckpt"
    legacy.write_bytes(b"PK\x03\x04")
    with pytest.raises(ModelInvalid, match="sfumato models convert"):
        resolve_model(str(legacy))


def test_demo_names_the_built_in_model_when_there_is_one() -> None:
    folder = demo_model_dir()
    if folder is None:
        with pytest.raises(ModelNotFound, match="no demo model"):
            resolve_model("demo")
    else:
        source = resolve_model("demo")
        assert (source.path, source.kind, source.name) == (folder.resolve(), SourceKind.FOLDER, "demo")
