"""A fake hub on 127.0.0.1 and a private Hugging Face cache for each download test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.downloads.repos import DECOYS, TINY_REPO
from tests.support.fake_hub import FakeHub, FakeRepo, point_client_at


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub() as fake_hub:
        yield fake_hub


@pytest.fixture
def hf_cache(hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point huggingface_hub (through the environment, as a user would) at the fake hub and a fresh cache."""
    return point_client_at(hub, tmp_path / "hf-home", monkeypatch)


@pytest.fixture
def tiny_repo(hub: FakeHub, tiny_model_dir: Path) -> FakeRepo:
    return hub.add(FakeRepo.from_folder(TINY_REPO, tiny_model_dir, extra=DECOYS))
