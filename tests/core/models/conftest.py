"""A fake hub, a private Hugging Face cache, and single-file checkpoints built from the tiny models."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from huggingface_hub import constants

from sfumato.core.models.download import download, plan_download
from tests.support.fake_hub import FakeHub, FakeRepo, point_client_at
from tests.support.ldm_export import export_ldm_checkpoint

Fetch = Callable[[str], Path]


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub() as fake_hub:
        yield fake_hub


@pytest.fixture
def hf_cache(hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """huggingface_hub pointed (through the environment, as a user would) at the fake hub and a new cache."""
    return point_client_at(hub, tmp_path / "hf-home", monkeypatch)


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


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model as a community-style single-file checkpoint (LDM layout)."""
    return export_ldm_checkpoint(tiny_model_dir, tmp_path_factory.mktemp("ckpt") / "tiny-sd.safetensors")


@pytest.fixture(scope="session")
def tiny_inpaint_checkpoint(tiny_inpaint_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ckpt") / "tiny-inpainting.safetensors"
    return export_ldm_checkpoint(tiny_inpaint_model_dir, out)


@pytest.fixture
def user_checkpoint(tiny_checkpoint: Path, tmp_path: Path) -> Path:
    """A copy the test may link to and change, in a folder of the artist's."""
    folder = tmp_path / "Downloads"
    folder.mkdir()
    copy = folder / "My Model v2.safetensors"
    copy.write_bytes(tiny_checkpoint.read_bytes())
    return copy
