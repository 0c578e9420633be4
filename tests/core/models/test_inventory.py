"""The inventory: what is installed and how big it is, removing models safely, checking their files."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from huggingface_hub import hf_hub_download
from huggingface_hub.utils._shared_blobs import publish_blob_to_shared_store, try_link_from_shared_store

from sfumato.core.api import BadInput, ModelNotFound
from sfumato.core.models.download import DownloadProgress, download, plan_download
from sfumato.core.models.hub_errors import DownloadCancelled
from sfumato.core.models.imports import import_file
from sfumato.core.models.inventory import InstalledModel, Origin, Status, list_installed, remove, verify
from sfumato.core.models.source import demo_model_dir, resolve_model
from tests.core.models.conftest import Fetch
from tests.support.fake_hub import FakeHub, FakeRepo

UNET = "unet/diffusion_pytorch_model.safetensors"
VAE = "vae/diffusion_pytorch_model.safetensors"


def installed() -> dict[str, InstalledModel]:
    models = {model.id: model for model in list_installed()}
    models.pop("demo", None)
    return models


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def blob_of(snapshot: Path, name: str) -> Path:
    """The repository's own blob entry behind a snapshot file (itself a link when stored once for all)."""
    pointer = snapshot / name
    return Path(os.path.normpath(pointer.parent / os.readlink(pointer)))


def test_lists_downloads_other_sd_pipelines_and_imports_and_nothing_else(
    fetch: Fetch, hub: FakeHub, hf_cache: Path, tiny_model_dir: Path, user_checkpoint: Path
) -> None:
    fetch("prompthero/openjourney")
    fetch("someone/painterly")
    not_for_sfumato = {
        "someone/flux": {"model_index.json": b'{"_class_name": "FluxPipeline"}'},
        "someone/xl": {"model_index.json": b'{"_class_name": "StableDiffusionXLPipeline"}'},
        "someone/text-model": {"config.json": b'{"model_type": "bert"}'},
    }
    for repo_id, files in not_for_sfumato.items():
        hub.add(FakeRepo(repo_id, files))
        hf_hub_download(repo_id, next(iter(files)), cache_dir=hf_cache, endpoint=hub.url)
    checkpoint = import_file(user_checkpoint)

    models = installed()

    assert set(models) == {"openjourney", "someone/painterly", "My-Model-v2"}
    catalog_model = models["openjourney"]
    assert (catalog_model.name, catalog_model.origin, catalog_model.kind) == (
        "OpenJourney",
        Origin.CATALOG,
        "checkpoint",
    )
    assert (catalog_model.base, catalog_model.status, catalog_model.repo_id) == (
        "sd1",
        Status.READY,
        "prompthero/openjourney",
    )
    assert catalog_model.size_bytes == folder_size(tiny_model_dir) and catalog_model.shared_bytes == 0
    other = models["someone/painterly"]
    assert (other.origin, other.kind, other.variant, other.status) == (
        Origin.HUB,
        "checkpoint",
        "normal",
        Status.READY,
    )
    imported = models["My-Model-v2"]
    assert (imported.origin, imported.base, imported.size_bytes) == (Origin.IMPORTED, "sd1", checkpoint.size)
    assert imported.shared_bytes == checkpoint.size  # a hard link to the artist's own file


def test_removing_one_of_two_repos_that_share_a_file_keeps_the_file_for_the_other(
    fetch: Fetch, hf_cache: Path, tiny_model_dir: Path
) -> None:
    first = fetch("prompthero/openjourney")
    second = fetch("someone/painterly")
    # Store the UNet once for both, as huggingface_hub's shared blob store does for identical files.
    cache = hf_cache.resolve()
    unet_size = (tiny_model_dir / UNET).stat().st_size
    content_hash = blob_of(first, UNET).name
    assert publish_blob_to_shared_store(
        blob_path=str(blob_of(first, UNET)), xet_hash=content_hash, cache_dir=cache, expected_size=unet_size
    )
    assert try_link_from_shared_store(
        blob_path=str(blob_of(second, UNET)), xet_hash=content_hash, cache_dir=cache, expected_size=unet_size
    )
    stored_once = next(cache.glob(f"blobs/*/{content_hash}"))

    before = installed()
    assert before["openjourney"].shared_bytes == before["someone/painterly"].shared_bytes == unet_size

    freed = remove("openjourney").freed_bytes

    assert freed == before["openjourney"].size_bytes - unet_size
    assert set(installed()) == {"someone/painterly"}
    assert stored_once.exists()
    assert (second / UNET).read_bytes() == (tiny_model_dir / UNET).read_bytes()
    assert verify("someone/painterly").ok
    assert installed()["someone/painterly"].shared_bytes == 0

    assert remove("someone/painterly").freed_bytes == before["someone/painterly"].size_bytes
    assert not stored_once.exists()
    assert installed() == {}
    with pytest.raises(ModelNotFound, match="sfumato models download openjourney"):
        resolve_model("openjourney")


def test_an_unfinished_download_is_listed_as_such_and_can_be_removed(
    hub: FakeHub, hf_cache: Path, tiny_model_dir: Path
) -> None:
    hub.add(FakeRepo.from_folder("prompthero/openjourney", tiny_model_dir))
    hub.bytes_per_second = 1_000_000
    cancel = threading.Event()

    def stop_inside_the_unet(progress: DownloadProgress) -> None:
        if progress.file == UNET and progress.file_done > 0:
            cancel.set()

    with pytest.raises(DownloadCancelled):
        download(plan_download("prompthero/openjourney"), on_progress=stop_inside_the_unet, cancel=cancel)

    model = installed()["openjourney"]
    assert model.status is Status.INCOMPLETE
    assert 0 < model.size_bytes < folder_size(tiny_model_dir)
    assert remove("openjourney").freed_bytes == model.size_bytes
    assert installed() == {}
    assert not (hf_cache / "models--prompthero--openjourney").exists()


def test_verify_finds_changed_and_missing_files(fetch: Fetch, user_checkpoint: Path) -> None:
    snapshot = fetch("prompthero/openjourney")
    record = import_file(user_checkpoint)
    assert verify("openjourney").ok and verify(record.id).ok

    vae_blob = blob_of(snapshot, VAE)
    damaged = bytearray(vae_blob.read_bytes())
    damaged[-10] ^= 0xFF
    vae_blob.write_bytes(bytes(damaged))
    with user_checkpoint.open("r+b") as file:  # the import is a hard link to this file
        file.seek(-10, 2)
        file.write(b"\xff" * 10)
    checked: list[str] = []

    report = verify("openjourney", on_file=checked.append)

    assert [problem.path for problem in report.problems] == [VAE]
    assert "contents changed" in report.problems[0].problem
    assert UNET in checked and report.checked == len(checked) == 12
    assert [problem.path for problem in verify(record.id).problems] == [record.file.name]

    blob_of(snapshot, UNET).unlink()
    missing = verify("openjourney").problems
    assert {problem.path for problem in missing} == {VAE, UNET}
    assert installed()["openjourney"].status is Status.INCOMPLETE


def test_removing_an_import_keeps_the_original_and_the_demo_model_stays(user_checkpoint: Path) -> None:
    record = import_file(user_checkpoint)

    assert remove(record.id).freed_bytes == 0  # the original still holds the data
    assert user_checkpoint.is_file() and not record.file.exists() and not record.sidecar.exists()
    assert installed() == {}
    with pytest.raises(BadInput, match="cannot be removed"):
        remove("demo")
    with pytest.raises(ModelNotFound, match="no installed model"):
        remove("not-a-model")
    if demo_model_dir() is not None:
        assert any(model.id == "demo" for model in list_installed())


@pytest.mark.parametrize("blank", ["", " ", "\t\n", "\u3000"])
def test_a_blank_id_is_refused_and_touches_no_model(user_checkpoint: Path, blank: str) -> None:
    record = import_file(user_checkpoint)

    for action in (remove, verify):
        with pytest.raises(BadInput, match="No model was named"):
            action(blank)

    assert record.file.is_file() and record.sidecar.is_file()
    assert list(installed()) == [record.id]


def test_ids_match_whole_not_in_part(user_checkpoint: Path) -> None:
    record = import_file(user_checkpoint)

    for near_miss in ("My-Model", "Model-v2", "My-Model-v2x", "lora:My-Model-v2"):
        with pytest.raises(ModelNotFound, match="no installed model"):
            remove(near_miss)
    assert record.file.is_file()
    # The same id in another case or Unicode form is still that model.
    assert not verify(" my-model-v2 ").problems
    assert remove("ＭＹ-ＭＯＤＥＬ-Ｖ２").model.id == record.id


@pytest.fixture
def demo_installed(tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installation that ships the demo model (the test checkout has no demo weights)."""
    import shutil

    import sfumato.core.demo as demo

    folder = tmp_path / "resources" / "demo-model"
    shutil.copytree(tiny_model_dir, folder)
    monkeypatch.setattr(demo, "demo_model_dir", lambda: folder)
    return folder


@pytest.mark.parametrize("name", ["demo", " DEMO ", "Demo", "ｄｅｍｏ"])
def test_the_demo_model_cannot_be_removed_under_any_name(demo_installed: Path, name: str) -> None:
    before = folder_size(demo_installed)

    with pytest.raises(BadInput, match="cannot be removed"):
        remove(name)
    with pytest.raises(BadInput, match="No model was named"):
        remove("")  # with no imports, a blank id once matched the demo model

    assert folder_size(demo_installed) == before
    assert resolve_model("demo").path == demo_installed.resolve()
