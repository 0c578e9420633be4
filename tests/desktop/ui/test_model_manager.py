"""The model manager window and the model picker, against a fake hub on 127.0.0.1 and a private
Hugging Face cache and SFUMATO_HOME."""

from __future__ import annotations

import sys
import threading
import time
import types
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from sfumato.core.models.catalog import entry
from sfumato.core.models.download import download, plan_download
from sfumato.core.models.hub_errors import cancelled, repo_not_found
from sfumato.core.models.imports import import_file
from sfumato.core.models.inventory import Status, list_installed
from sfumato.core.models.source import resolve_model
from sfumato.desktop.engine_client import EngineClient
from sfumato.desktop.ui.main_window import MainWindow
from sfumato.desktop.ui.model_manager import ModelManager
from sfumato.desktop.ui.model_manager_parts import CatalogCard
from sfumato.desktop.ui.settings import Settings
from tests.core.downloads.repos import DECOYS, SCHEDULER, moved_on
from tests.desktop.ui.conftest import forget_changes
from tests.support.fake_hub import FakeHub, FakeRepo

REPO = "prompthero/openjourney"
MODEL_ID = "openjourney"


@pytest.fixture(autouse=True)
def _on_the_fake_hub(hf_cache: Path) -> None:
    """Every test here talks to the fake hub, with a Hugging Face cache of its own."""


@pytest.fixture
def manager(window: MainWindow) -> ModelManager:
    return window.open_model_manager()


def card(manager: ModelManager, model_id: str) -> CatalogCard:
    return next(card for card in manager.cards if card.entry.id == model_id)


def installed_names(manager: ModelManager) -> list[str]:
    table = manager.table
    items = (table.item(row, 0) for row in range(table.rowCount()))
    return [item.text() for item in items if item is not None]


def ready_ids() -> set[str]:
    return {model.id for model in list_installed() if model.status is Status.READY}


def wait_idle(qtbot: QtBot, manager: ModelManager, timeout_ms: int = 15_000) -> None:
    qtbot.waitUntil(lambda: not manager.busy, timeout=timeout_ms)


def test_installing_from_the_catalog_shows_progress_and_adds_the_model(
    qtbot: QtBot, window: MainWindow, manager: ModelManager, hub: FakeHub, tiny_model_dir: Path
) -> None:
    hub.add(FakeRepo.from_folder(REPO, tiny_model_dir))
    openjourney = card(manager, MODEL_ID)
    assert openjourney.install_button.isVisible()
    assert MODEL_ID not in window.generation.models.models()
    values: list[int] = []
    details: list[str] = []
    manager.download_bar.progress.valueChanged.connect(values.append)
    manager.download_bar.progress.valueChanged.connect(
        lambda _value: details.append(manager.download_bar.details.text())
    )

    qtbot.mouseClick(openjourney.install_button, Qt.MouseButton.LeftButton)
    assert manager.download_bar.isVisible()
    wait_idle(qtbot, manager)

    assert values and values[-1] == 1000
    assert any(" of " in text for text in details)
    assert not manager.download_bar.isVisible()
    assert "OpenJourney" in installed_names(manager)
    assert openjourney.state.text() == "Installed" and not openjourney.install_button.isVisible()
    picker = window.generation.models
    assert MODEL_ID in picker.models()
    index = picker.combo.findData(MODEL_ID)
    assert picker.combo.itemText(index) == "OpenJourney · SD 1.x"


def test_install_gets_the_catalog_model_at_its_recorded_commit_after_the_repository_moved_on(
    qtbot: QtBot, manager: ModelManager, hub: FakeHub, tiny_model_dir: Path
) -> None:
    pinned, _ = moved_on(hub, REPO, tiny_model_dir)
    assert pinned.commit == entry(MODEL_ID).revision

    qtbot.mouseClick(card(manager, MODEL_ID).install_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, manager)

    assert card(manager, MODEL_ID).state.text() == "Installed", manager.message.text()
    folder = resolve_model(MODEL_ID).path
    assert folder.name == pinned.commit
    assert (folder / SCHEDULER).read_bytes() == pinned.files[SCHEDULER].content


def test_cancel_stops_the_download_and_installs_nothing(
    qtbot: QtBot,
    window: MainWindow,
    manager: ModelManager,
    hub: FakeHub,
    tiny_model_dir: Path,
    tmp_path: Path,
) -> None:
    hub.add(FakeRepo.from_folder(REPO, tiny_model_dir))
    hub.bytes_per_second = 40_000
    card(manager, MODEL_ID).install_button.click()
    qtbot.waitUntil(lambda: manager.download_bar.progress.value() > 0, timeout=15_000)
    not_a_model = tmp_path / "notes.safetensors"
    not_a_model.write_text("shopping list")
    manager.import_file(str(not_a_model))  # the window keeps working while the download runs
    qtbot.waitUntil(
        lambda: (
            "notes.safetensors" in manager.message.text()
            and not manager.message.text().startswith("Importing")
        )
    )
    assert manager.downloading and manager.download_bar.isVisible()

    pressed = time.monotonic()
    manager.download_bar.cancel_button.click()
    wait_idle(qtbot, manager, timeout_ms=5_000)

    assert time.monotonic() - pressed < 1.5
    assert manager.message.text() == cancelled(REPO).message
    assert MODEL_ID not in ready_ids()
    assert MODEL_ID not in window.generation.models.models()
    assert card(manager, MODEL_ID).install_button.text() == "Resume"


def test_a_missing_or_gated_model_shows_the_hub_message(
    qtbot: QtBot, manager: ModelManager, hub: FakeHub, tiny_model_dir: Path
) -> None:
    card(manager, MODEL_ID).install_button.click()
    wait_idle(qtbot, manager)
    assert manager.message.isVisible()
    assert manager.message.text() == repo_not_found(REPO).message

    hub.add(FakeRepo.from_folder(REPO, tiny_model_dir, gated=True))
    card(manager, MODEL_ID).install_button.click()
    wait_idle(qtbot, manager)
    text = manager.message.text()
    assert f"{hub.url}/{REPO}" in text and "Traceback" not in text
    assert MODEL_ID not in ready_ids()


def test_remove_asks_first_then_removes(
    qtbot: QtBot, window: MainWindow, hub: FakeHub, tiny_model_dir: Path
) -> None:
    hub.add(FakeRepo.from_folder(REPO, tiny_model_dir))
    download(plan_download(REPO), on_progress=lambda _progress: None, cancel=threading.Event())
    manager = window.open_model_manager()
    assert "OpenJourney" in installed_names(manager)

    def answer(button_text: str) -> None:
        remove_button = manager.findChild(QPushButton, f"remove-{MODEL_ID}")
        assert remove_button is not None
        remove_button.click()
        box = manager.confirmation
        assert isinstance(box, QMessageBox) and "OpenJourney" in box.text()
        chosen = next(button for button in box.buttons() if button.text() == button_text)
        chosen.click()
        wait_idle(qtbot, manager)

    answer("Cancel")
    assert MODEL_ID in ready_ids()
    answer("Remove")
    assert MODEL_ID not in ready_ids()
    assert "OpenJourney" not in installed_names(manager)
    assert MODEL_ID not in window.generation.models.models()


def test_an_imported_checkpoint_appears_in_the_list_and_the_picker(
    qtbot: QtBot, window: MainWindow, manager: ModelManager, tiny_checkpoint: Path
) -> None:
    manager.import_file(str(tiny_checkpoint))
    wait_idle(qtbot, manager)
    assert "tiny-sd" in installed_names(manager)
    picker = window.generation.models
    assert picker.combo.itemText(picker.combo.findData("tiny-sd")) == "tiny-sd · SD 1.x"

    row = installed_names(manager).index("tiny-sd")
    cell = manager.table.cellWidget(row, manager.table.columnCount() - 1)
    assert cell is not None
    next(button for button in cell.findChildren(QPushButton) if button.text() == "Verify").click()
    wait_idle(qtbot, manager)
    assert "files are intact" in manager.message.text()


def test_a_legacy_embedding_is_converted_and_listed_but_not_offered_as_a_model(
    qtbot: QtBot, window: MainWindow, manager: ModelManager, tmp_path: Path
) -> None:
    import torch

    original = tmp_path / "watercolor.pt"
    embedding = {"string_to_token": {"*": 265}, "string_to_param": {"*": torch.randn(2, 768)}, "name": "w"}
    torch.save(embedding, original, _use_new_zipfile_serialization=False)
    manager.convert_file(str(original))
    wait_idle(qtbot, manager, timeout_ms=60_000)
    assert "watercolor" in installed_names(manager), manager.message.text()
    assert not any("watercolor" in model for model in window.generation.models.models())


def test_a_file_that_is_not_a_model_is_refused_in_plain_words(
    qtbot: QtBot, manager: ModelManager, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.safetensors"
    notes.write_text("shopping list")
    manager.import_file(str(notes))
    wait_idle(qtbot, manager)
    assert "notes.safetensors" in manager.message.text()
    assert "Traceback" not in manager.message.text()


def test_the_picker_leads_to_the_manager(qtbot: QtBot, window: MainWindow) -> None:
    picker = window.generation.models
    manage = picker.combo.count() - 1
    assert picker.combo.itemText(manage).startswith("Get models")
    picker.combo.activated.emit(manage)
    assert window.model_manager is not None and window.model_manager.isVisible()


def test_the_demo_model_comes_first_and_a_chosen_model_is_remembered(
    qtbot: QtBot,
    client: EngineClient,
    tiny_model_dir: Path,
    tiny_checkpoint: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    demo = types.ModuleType("sfumato.core.demo")
    demo.demo_model_dir = lambda: tiny_model_dir  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sfumato.core.demo", demo)  # an installation with a demo model
    import_file(tiny_checkpoint)

    def open_studio() -> MainWindow:
        studio = MainWindow(client, Settings())
        qtbot.addWidget(studio, before_close_func=forget_changes)
        return studio

    first = open_studio()
    picker = first.generation.models
    assert picker.models()[:2] == ["demo", "tiny-sd"]
    assert picker.model() == "demo"
    picker.select("tiny-sd")
    first.close()

    assert open_studio().generation.models.model() == "tiny-sd"


@pytest.mark.parametrize("half", [False, True])
def test_installs_take_half_precision_weights_when_the_engine_runs_in_float16(
    qtbot: QtBot, manager: ModelManager, hub: FakeHub, tiny_model_dir: Path, half: bool
) -> None:
    hub.add(FakeRepo.from_folder(REPO, tiny_model_dir, extra=DECOYS))
    manager.half_precision = lambda: half
    qtbot.mouseClick(card(manager, MODEL_ID).install_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, manager)
    fetched = {request.target or "" for request in hub.log if request.method == "GET"}
    assert ("unet/diffusion_pytorch_model.fp16.safetensors" in fetched) is half
    assert MODEL_ID in ready_ids()


def test_the_preview_decoder_installs_from_the_catalog_but_is_not_a_model_to_pick(
    qtbot: QtBot, window: MainWindow, manager: ModelManager, hub: FakeHub, tmp_path: Path
) -> None:
    from diffusers import AutoencoderTiny

    folder = tmp_path / "taesd"
    AutoencoderTiny(
        encoder_block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8)
    ).save_pretrained(folder)
    hub.add(FakeRepo.from_folder("madebyollin/taesd", folder))
    qtbot.mouseClick(card(manager, "taesd").install_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, manager)
    assert "Live previews use it" in manager.message.text()
    assert "taesd" in ready_ids()
    assert "taesd" not in window.generation.models.models()
