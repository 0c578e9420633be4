"""Downloading into the Hugging Face cache: results, progress, resuming, damage, cancelling, limits."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from diffusers import StableDiffusionPipeline
from huggingface_hub import constants, hf_hub_download, scan_cache_dir

from sfumato.core.models import hub_errors
from sfumato.core.models.download import (
    DownloadPlan,
    DownloadProgress,
    PlannedFile,
    cached_snapshot,
    download,
    plan_download,
)
from sfumato.core.models.download import space as download_space
from tests.core.downloads.repos import TINY_REPO
from tests.support.fake_hub import DropAfter, FakeHub, FakeRepo, IgnoreRange, Reply, ShortBody, StallAfter

UNET = "unet/diffusion_pytorch_model.safetensors"


def fetch(plan: DownloadPlan, cancel: threading.Event | None = None) -> tuple[Path, list[DownloadProgress]]:
    events: list[DownloadProgress] = []
    folder = download(plan, on_progress=events.append, cancel=cancel or threading.Event())
    return folder, events


def repo_folder(cache: Path) -> Path:
    return cache / "models--sfumato-test--tiny-sd"


def partial_files(cache: Path) -> list[Path]:
    return list(repo_folder(cache).rglob("*.incomplete"))


def test_downloads_a_pipeline_that_loads_offline_from_a_normal_hf_cache(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_download(TINY_REPO)

    folder, _ = fetch(plan)

    assert folder == repo_folder(hf_cache) / "snapshots" / tiny_repo.commit
    for file in plan.files:
        assert (folder / file.path).read_bytes() == (tiny_model_dir / file.path).read_bytes()
        assert (folder / file.path).is_symlink()
    assert (repo_folder(hf_cache) / "refs" / "main").read_text() == tiny_repo.commit
    assert partial_files(hf_cache) == []
    # Other Hugging Face tools see an ordinary cache.
    cached = scan_cache_dir(hf_cache)
    assert [(repo.repo_id, rev.commit_hash) for repo in cached.repos for rev in repo.revisions] == [
        (TINY_REPO, tiny_repo.commit)
    ]
    assert hf_hub_download(TINY_REPO, UNET, cache_dir=hf_cache, local_files_only=True) == str(folder / UNET)

    # A second download finds everything in place and fetches nothing.
    requests_before = len(hub.log)
    assert fetch(plan)[0] == folder
    assert len(hub.log) == requests_before

    # Later, with the hub gone and offline mode on, the pinned commit loads by name.
    hub.stop()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    snapshot = cached_snapshot(TINY_REPO)
    assert snapshot == folder
    pipeline = StableDiffusionPipeline.from_pretrained(snapshot, local_files_only=True)
    assert pipeline.unet.config.sample_size == 8


def test_progress_reports_each_file_and_the_whole(hf_cache: Path, tiny_repo: FakeRepo) -> None:
    plan = plan_download(TINY_REPO)

    _, events = fetch(plan)

    assert events[-1].done == events[-1].total == plan.total_bytes
    assert events[-1].files_done == events[-1].files_total == len(plan.files)
    assert [event.done for event in events] == sorted(event.done for event in events)
    finished = {event.file for event in events if event.file_done == event.file_total}
    assert finished == {file.path for file in plan.files}
    for event in events:
        assert 0 <= event.file_done <= event.file_total
        assert event.done <= event.total
    assert any(event.bytes_per_second > 0 and event.eta_seconds is not None for event in events)


def test_a_dropped_connection_resumes_with_only_the_missing_bytes(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo, tiny_model_dir: Path
) -> None:
    hub.inject(UNET, DropAfter(300_000))
    plan = plan_download(TINY_REPO)

    folder, _ = fetch(plan)

    first, second = hub.content_requests(UNET)
    size = len(tiny_repo.files[UNET].content)
    assert first.range is None
    assert second.range == "bytes=300000-"
    assert second.status == 206 and second.length == size - 300_000
    assert (folder / UNET).read_bytes() == (tiny_model_dir / UNET).read_bytes()


def test_a_server_that_ignores_range_gets_the_file_from_the_start(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo, tiny_model_dir: Path
) -> None:
    hub.inject(UNET, DropAfter(300_000), IgnoreRange())
    plan = plan_download(TINY_REPO)

    folder, events = fetch(plan)

    assert [(request.range, request.status) for request in hub.content_requests(UNET)] == [
        (None, 200),
        ("bytes=300000-", 200),
    ]
    assert (folder / UNET).read_bytes() == (tiny_model_dir / UNET).read_bytes()
    assert all(event.file_done <= event.file_total and event.done <= event.total for event in events)


def test_a_short_body_is_completed(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo, tiny_model_dir: Path
) -> None:
    hub.inject(UNET, ShortBody(1000))

    folder, _ = fetch(plan_download(TINY_REPO))

    assert [request.range for request in hub.content_requests(UNET)] == [None, "bytes=1000-"]
    assert (folder / UNET).read_bytes() == (tiny_model_dir / UNET).read_bytes()


def test_a_damaged_file_is_reported_and_never_visible(hf_cache: Path, tiny_repo: FakeRepo) -> None:
    tiny_repo.corrupt(UNET, offset=123_456)
    plan = plan_download(TINY_REPO)

    with pytest.raises(hub_errors.ChecksumMismatch, match=UNET):
        fetch(plan)

    storage = repo_folder(hf_cache)
    assert not (storage / "snapshots" / tiny_repo.commit / UNET).exists()
    assert not (storage / "snapshots" / tiny_repo.commit / "model_index.json").exists()
    assert not (storage / "refs" / "main").exists()
    unet_blob = next(file.blob_name for file in plan.files if file.path == UNET)
    assert not any(path.name.startswith(unet_blob) for path in (storage / "blobs").iterdir())
    with pytest.raises(hub_errors.ModelNotFound):
        cached_snapshot(TINY_REPO)


def test_rate_limited_file_waits_then_continues(hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo) -> None:
    hub.inject(UNET, Reply(429, {"Retry-After": "1"}))
    plan = plan_download(TINY_REPO)
    started = time.monotonic()

    fetch(plan)

    assert time.monotonic() - started >= 0.9
    assert len(hub.content_requests(UNET)) == 1


def test_persistent_server_errors_are_reported_and_progress_kept(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo
) -> None:
    hub.inject(UNET, DropAfter(500_000), *[Reply(503)] * 3)
    plan = plan_download(TINY_REPO)

    with pytest.raises(hub_errors.HubServerError, match="503"):
        fetch(plan)
    (partial,) = partial_files(hf_cache)
    assert partial.stat().st_size == 500_000

    fetch(plan)
    assert hub.content_requests(UNET)[-1].range == "bytes=500000-"


def test_cancel_stops_within_a_second_and_the_next_download_resumes(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo, tiny_model_dir: Path
) -> None:
    hub.inject(UNET, StallAfter(300_000, seconds=3))  # the server goes silent mid-file
    plan = plan_download(TINY_REPO)
    cancel = threading.Event()
    stalled = threading.Event()
    cancelled_at: list[float] = []

    def watch(event: DownloadProgress) -> None:
        if event.file == UNET and event.file_done >= 300_000:
            stalled.set()

    def cancel_when_stalled() -> None:
        stalled.wait(10)
        time.sleep(0.2)
        cancelled_at.append(time.monotonic())
        cancel.set()

    canceller = threading.Thread(target=cancel_when_stalled)
    canceller.start()
    with pytest.raises(hub_errors.DownloadCancelled):
        download(plan, on_progress=watch, cancel=cancel)
    assert time.monotonic() - cancelled_at[0] < 1.0
    canceller.join()

    snapshot = repo_folder(hf_cache) / "snapshots" / tiny_repo.commit
    assert not (snapshot / UNET).exists() and not (snapshot / "model_index.json").exists()
    (partial,) = partial_files(hf_cache)
    assert partial.parent.name == "blobs"
    assert partial.stat().st_size == 300_000

    folder, _ = fetch(plan)
    assert hub.content_requests(UNET)[-1].range == "bytes=300000-"
    assert (folder / UNET).read_bytes() == (tiny_model_dir / UNET).read_bytes()


def test_two_downloads_of_one_model_at_once_share_the_work(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo, tiny_model_dir: Path
) -> None:
    plan = plan_download(TINY_REPO)
    hub.log.clear()
    hub.bytes_per_second = 8_000_000
    results: list[Path] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(fetch(plan)[0])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == [] and len(results) == 2 and results[0] == results[1]
    for file in plan.files:
        assert (results[0] / file.path).read_bytes() == (tiny_model_dir / file.path).read_bytes()
        served = sum(request.length or 0 for request in hub.content_requests(file.path))
        assert served == file.size


def test_refuses_to_start_without_room_on_the_disk(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_download(TINY_REPO)
    hub.log.clear()
    real_usage = shutil.disk_usage
    monkeypatch.setattr(
        download_space.shutil,
        "disk_usage",
        lambda path: real_usage(path)._replace(free=download_space.SPARE_BYTES + plan.total_bytes - 1),
    )

    with pytest.raises(hub_errors.NotEnoughDiskSpace, match="HF_HOME") as caught:
        fetch(plan)
    free, needed = caught.value.free, caught.value.needed
    assert free is not None and needed is not None and free < needed
    assert hub.log == []


@pytest.mark.parametrize(
    ("repo_id", "path", "revision"),
    [
        (TINY_REPO, "../../../../escaped.json", "main"),
        (TINY_REPO, "unet/config.json", "../../../../escaped.json"),
        ("..\\..\\escaped", "unet/config.json", "main"),
    ],
)
def test_names_that_would_leave_the_cache_are_refused(
    hub: FakeHub, hf_cache: Path, tmp_path: Path, repo_id: str, path: str, revision: str
) -> None:
    plan = DownloadPlan(
        repo_id=repo_id,
        revision=revision,
        commit="a" * 40,
        files=(PlannedFile(path, 2, sha256=None, git_oid="b" * 40),),
    )

    with pytest.raises(hub_errors.UnsafeFileName):
        fetch(plan)
    assert hub.log == []
    assert not list(tmp_path.parent.rglob("escaped.json"))


def test_a_cache_folder_that_cannot_be_written_is_reported(
    hf_cache: Path, tiny_repo: FakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_download(TINY_REPO)
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "not-a-folder" / "hub"))

    with pytest.raises(hub_errors.CacheNotWritable, match="HF_HOME"):
        fetch(plan)


def test_offline_mode_refuses_to_download(
    hf_cache: Path, tiny_repo: FakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_download(TINY_REPO)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    with pytest.raises(hub_errors.OfflineMode):
        fetch(plan)


def test_without_symlinks_the_snapshot_holds_copies(
    hf_cache: Path, tiny_repo: FakeRepo, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_SYMLINKS", True)

    folder, _ = fetch(plan_download(TINY_REPO))

    assert not (folder / UNET).is_symlink()
    assert (
        hashlib.sha256((folder / UNET).read_bytes()).digest()
        == hashlib.sha256((tiny_model_dir / UNET).read_bytes()).digest()
    )
    assert os.path.samefile(cached_snapshot(TINY_REPO), folder)


def test_hf_home_alone_decides_where_the_cache_is(
    hf_cache: Path, tiny_repo: FakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "elsewhere"))

    folder, _ = fetch(plan_download(TINY_REPO))

    assert folder.is_relative_to(tmp_path / "elsewhere" / "hub")
    assert not hf_cache.exists()


def test_files_huggingface_hub_already_downloaded_are_reused(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # hf_xet is installed: with Xet allowed and a server that offers no Xet, plain HTTP must still work.
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    monkeypatch.setattr(constants, "ENDPOINT", hub.url)
    monkeypatch.setattr(
        constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.url + "/{repo_id}/resolve/{revision}/{filename}"
    )
    hf_hub_download(TINY_REPO, UNET, cache_dir=hf_cache)
    plan = plan_download(TINY_REPO)
    hub.log.clear()

    folder, _ = fetch(plan)

    assert hub.content_requests(UNET) == []
    assert (folder / UNET).read_bytes() == (tiny_model_dir / UNET).read_bytes()
