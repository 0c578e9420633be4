from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sfumato.core.engine import Engine, EngineSettings


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFUMATO_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    """An in-process engine on the CPU."""
    engine = await Engine.start(EngineSettings(device="cpu", in_process=True))
    yield engine
    await engine.close()
