"""Downloading the tiny model from the fake hub, going offline, and a checkpoint of the artist's own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from huggingface_hub import constants

from sfumato.core.models.download import download, plan_download
from tests.support.fake_hub import FakeHub, FakeRepo

Fetch = Callable[[str], Path]


@pytest.fixture
def fetch(hub: FakeHub, hf_cache: Path, tiny_model_dir: Path) -> Fetch:
    """Serve the tiny model as `repo_id` and download it; returns the snapshot folder."""

    def fetch_repo(repo_id: str) -> Path:
        hub.add(FakeRepo.from_folder(repo_id, tiny_model_dir))
        plan = plan_download(repo_id)
        return download(plan, on_progress=lambda progress: None, cancel=threading.Event())

    return fetch_repo


def go_offline(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.stop()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


@pytest.fixture
def user_checkpoint(tiny_checkpoint: Path, tmp_path: Path) -> Path:
    """A copy the test may link to and change, in a folder of the artist's."""
    folder = tmp_path / "Downloads"
    folder.mkdir()
    copy = folder / "My Model v2.safetensors"
    copy.write_bytes(tiny_checkpoint.read_bytes())
    return copy
