"""The tiny model served by the fake hub (the hub and its private cache come from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.downloads.repos import DECOYS, TINY_REPO
from tests.support.fake_hub import FakeHub, FakeRepo


@pytest.fixture
def tiny_repo(hub: FakeHub, tiny_model_dir: Path) -> FakeRepo:
    return hub.add(FakeRepo.from_folder(TINY_REPO, tiny_model_dir, extra=DECOYS))
