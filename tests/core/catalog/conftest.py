"""Every catalog contract test talks to the shared loopback hub through a private Hugging Face cache."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def private_hub_cache(hf_cache: Path) -> Path:
    return hf_cache
