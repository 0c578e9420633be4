"""What the hub answers is read within bounds and checked field by field: an answer too large (on
the wire or once decoded), damaged, or missing a field ends in a clear message, never a crash."""

from __future__ import annotations

import copy
import json
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sfumato.core.models import hub_errors
from sfumato.core.models.download import plan_download
from sfumato.core.models.download.listing import MAX_DESCRIPTION_BYTES, MAX_LISTING_BYTES
from tests.core.downloads.repos import TINY_REPO
from tests.support.fake_hub import API, FakeHub, FakeRepo, Reply

JSON = {"Content-Type": "application/json"}


def gzip_of_spaces(prefix: bytes, count: int) -> bytes:
    """`prefix` followed by `count` spaces, gzip-compressed a megabyte at a time (about 1000:1)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(prefix)]
    block = b" " * 2**20
    for _ in range(count // len(block)):
        parts.append(packer.compress(block))
    return b"".join([*parts, packer.flush()])


def peak_bytes_while(action: Callable[[], object]) -> tuple[int, BaseException | None]:
    tracemalloc.start()
    raised: BaseException | None = None
    try:
        action()
    except hub_errors.HubError as error:
        raised = error
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, raised


@pytest.mark.parametrize("encoded", [False, True])
def test_a_listing_larger_than_any_repository_has_is_refused_as_it_streams(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo, encoded: bool
) -> None:
    size = 4 * MAX_LISTING_BYTES
    if encoded:  # about 64 KB on the wire
        body, headers = gzip_of_spaces(b'{"siblings": [', size), {**JSON, "Content-Encoding": "gzip"}
    else:
        body, headers = b'{"siblings": [' + b" " * size, JSON
    hub.inject(API, Reply(200, headers, body))

    peak, raised = peak_bytes_while(lambda: plan_download(TINY_REPO))

    assert isinstance(raised, hub_errors.HubServerError)
    assert f"a file list for “{TINY_REPO}”" in raised.message and "larger than 16.8 MB" in raised.message
    assert peak < 3 * MAX_LISTING_BYTES  # reading it whole took the full size, or 1000 times the bytes sent


def test_a_model_index_larger_than_listed_is_refused_as_it_streams(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo
) -> None:
    body = gzip_of_spaces(b'{"_class_name": "StableDiffusionPipeline"', 64 * MAX_DESCRIPTION_BYTES)
    hub.inject("model_index.json", Reply(200, {**JSON, "Content-Encoding": "gzip"}, body))

    peak, raised = peak_bytes_while(lambda: plan_download(TINY_REPO))

    assert isinstance(raised, hub_errors.HubServerError)
    assert f"the file “model_index.json” of “{TINY_REPO}”" in raised.message
    assert "larger than" in raised.message
    assert peak < 8 * MAX_DESCRIPTION_BYTES


def test_a_model_index_listed_as_huge_is_not_even_fetched(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo
) -> None:
    listing = tiny_repo.info()
    for entry in listing["siblings"]:  # type: ignore[attr-defined]
        if entry["rfilename"] == "model_index.json":
            entry["size"] = 1_500_000_000
    hub.inject(API, Reply(200, JSON, json.dumps(listing).encode()))

    with pytest.raises(hub_errors.HubServerError, match=r"at 1\.5 GB, far more than such a file can be"):
        plan_download(TINY_REPO)
    assert hub.content_requests("model_index.json") == []


def _without_pointer_size(listing: dict[str, Any]) -> None:
    for entry in listing["siblings"]:
        if "lfs" in entry:
            del entry["lfs"]["pointerSize"]


def test_a_listing_without_fields_sfumato_does_not_need_still_plans(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo
) -> None:
    listing = tiny_repo.info()
    _without_pointer_size(listing)
    for key in ("modelId", "private", "gated", "tags", "library_name"):
        del listing[key]
    hub.inject(API, Reply(200, JSON, json.dumps(listing).encode()))

    plan = plan_download(TINY_REPO)

    assert plan.commit == tiny_repo.commit and any(file.sha256 for file in plan.files)


def _entry(listing: dict[str, Any], path: str) -> dict[str, Any]:
    return next(entry for entry in listing["siblings"] if entry["rfilename"] == path)


def _weight(listing: dict[str, Any]) -> dict[str, Any]:
    return _entry(listing, "unet/diffusion_pytorch_model.safetensors")


DAMAGED_LISTINGS: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "not json": (lambda listing: b"<html>Bad gateway</html>", "not valid JSON"),
    "nested without end": (lambda listing: b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
    "not a table": (lambda listing: b'[{"sha": "0"}]', "not a description of a repository"),
    "no commit": (lambda listing: listing.pop("sha"), "names no commit"),
    "commit a number": (lambda listing: listing.update(sha=12), "names no commit"),
    "no files": (lambda listing: listing.pop("siblings") and None, "has no list of files"),
    "files a table": (lambda listing: listing.update(siblings={}), "has no list of files"),
    "a file without a name": (lambda listing: listing["siblings"][0].pop("rfilename"), "has no name"),
    "a file that is text": (lambda listing: listing["siblings"].append("unet/x"), "has no name"),
    "no lfs checksum": (lambda listing: _weight(listing)["lfs"].pop("sha256"), "incomplete file list"),
    "lfs size as text": (lambda listing: _weight(listing)["lfs"].update(size="12"), "incomplete file list"),
    "lfs not a table": (lambda listing: _weight(listing).update(lfs=[1]), "incomplete file list"),
    "size negative": (
        lambda listing: _entry(listing, "model_index.json").update(size=-1),
        "incomplete file list",
    ),
    "no blob id": (
        lambda listing: _entry(listing, "unet/config.json").pop("blobId"),
        "incomplete file list",
    ),
}


@pytest.mark.parametrize("case", list(DAMAGED_LISTINGS))
def test_a_damaged_listing_is_reported_in_plain_words(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo, case: str
) -> None:
    edit, expected = DAMAGED_LISTINGS[case]
    listing = copy.deepcopy(tiny_repo.info())
    replaced = edit(listing)
    body = replaced if isinstance(replaced, bytes) else json.dumps(listing).encode()
    hub.inject(API, Reply(200, JSON, body))

    with pytest.raises(hub_errors.HubError, match=expected) as raised:
        plan_download(TINY_REPO)
    assert raised.value.message.startswith("Hugging Face sent")


def test_a_model_index_nested_without_end_is_damaged(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo
) -> None:
    hub.inject("model_index.json", Reply(200, JSON, b'{"a": ' * 100_000 + b"1" + b"}" * 100_000))
    with pytest.raises(hub_errors.NotADiffusersPipeline, match=r"model_index.json .* is damaged"):
        plan_download(TINY_REPO)


@pytest.mark.parametrize("path", ["unet/config.json", "tokenizer/vocab.json"])
def test_a_configuration_listed_as_huge_is_refused_before_anything_downloads(
    hub: FakeHub, hf_cache: Path, tiny_repo: FakeRepo, path: str
) -> None:
    listing = tiny_repo.info()
    _entry(listing, path)["size"] = 1_500_000_000
    hub.inject(API, Reply(200, JSON, json.dumps(listing).encode()))

    with pytest.raises(hub_errors.HubServerError) as raised:
        plan_download(TINY_REPO)
    assert f"lists the file “{path}” of “{TINY_REPO}” at 1.5 GB" in raised.value.message
