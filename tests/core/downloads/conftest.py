"""A fake hub on 127.0.0.1 and a private Hugging Face cache for each download test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import constants

from tests.core.downloads.repos import DECOYS, TINY_REPO
from tests.support.fake_hub import FakeHub, FakeRepo


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub() as fake_hub:
        yield fake_hub


@pytest.fixture
def hf_cache(hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point huggingface_hub (through the environment, as a user would) at the fake hub and a fresh cache."""
    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_TOKEN_PATH", raising=False)
    # huggingface_hub read these when it was imported; its HTTP client checks the offline switch.
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    return home / "hub"


@pytest.fixture
def tiny_repo(hub: FakeHub, tiny_model_dir: Path) -> FakeRepo:
    return hub.add(FakeRepo.from_folder(TINY_REPO, tiny_model_dir, extra=DECOYS))
