"""Fixtures for the studio's UI tests: an isolated SFUMATO_HOME, asyncio on the Qt loop, a
scriptable engine, and the main window around it."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from sfumato.core.api import EngineSettings
from sfumato.desktop.engine_client import EngineClient
from sfumato.desktop.ui.main_window import MainWindow
from sfumato.desktop.ui.settings import Settings
from sfumato.desktop.ui.theme import apply_theme
from tests.desktop.ui.fake_engine import FakeEngine

T = TypeVar("T")


@pytest.fixture(autouse=True)
def sfumato_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("SFUMATO_HOME", str(home))
    return home


@pytest.fixture
def qt_loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """asyncio running on the Qt event loop: qtbot's waits drive coroutines as the app's loop does."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
        qapp.processEvents()
        asyncio.events._set_running_loop(None)
        loop._QEventLoop__is_running = False  # no Qt exec() to leave: just mark the loop stopped
        loop.close()
        asyncio.set_event_loop(None)


def run(qtbot: QtBot, coroutine: Coroutine[Any, Any, T], timeout_ms: int = 30_000) -> T:
    """Run a coroutine on the Qt loop until it is done; returns its result."""
    task = asyncio.ensure_future(coroutine)
    qtbot.waitUntil(task.done, timeout=timeout_ms)
    return task.result()


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def client(qtbot: QtBot, qt_loop: qasync.QEventLoop, fake_engine: FakeEngine) -> Iterator[EngineClient]:
    async def start() -> FakeEngine:
        return fake_engine

    engine_client = EngineClient(start)
    run(qtbot, engine_client.start())
    yield engine_client
    run(qtbot, engine_client.close())


@pytest.fixture
def window(qtbot: QtBot, qapp: QApplication, client: EngineClient) -> Iterator[MainWindow]:
    apply_theme(qapp)
    studio = MainWindow(client, Settings())
    qtbot.addWidget(studio, before_close_func=forget_changes)
    studio.resize(1200, 800)
    studio.show()
    qtbot.waitExposed(studio)
    yield studio


def forget_changes(studio: MainWindow) -> None:
    """Let a test's window close without asking about unsaved changes."""
    studio.host.document.history.mark_clean()


@pytest.fixture
def real_client(qtbot: QtBot, qt_loop: qasync.QEventLoop) -> Iterator[EngineClient]:
    """The real engine, in this process, on the CPU."""
    engine_client = EngineClient(settings=EngineSettings(device="cpu", in_process=True))
    run(qtbot, engine_client.start())
    yield engine_client
    run(qtbot, engine_client.close())
