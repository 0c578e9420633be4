"""A loopback hub and a private Hugging Face cache for each catalog contract test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_hub import FakeHub, point_client_at


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    with FakeHub() as fake_hub:
        point_client_at(fake_hub, tmp_path / "hf-home", monkeypatch)
        yield fake_hub
