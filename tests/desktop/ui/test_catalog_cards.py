"""The model manager's catalog shows each model's download size, licence, and why a model can't be
downloaded when its repository offers no safe weights."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from sfumato.core.formatting import format_bytes
from sfumato.core.models.catalog import catalog, entry
from sfumato.desktop.ui.main_window import MainWindow
from sfumato.desktop.ui.model_manager_parts import CatalogCard


def facts(card: CatalogCard) -> QLabel:
    label = card.findChild(QLabel, "facts")
    assert label is not None
    return label


def test_every_card_shows_the_size_the_catalog_states(qtbot: QtBot, window: MainWindow) -> None:
    manager = window.open_model_manager()
    assert [card.entry.id for card in manager.cards] == [item.id for item in catalog()]
    for card in manager.cards:
        full, half = card.entry.download_bytes(fp16=False), card.entry.download_bytes(fp16=True)
        assert format_bytes(full) in facts(card).text()
        assert (f"{format_bytes(half)} in half precision" in facts(card).text()) is (half != full)
        assert card.entry.licence_url in facts(card).toolTip()


def test_sd15_shows_its_smaller_half_precision_download(qtbot: QtBot) -> None:
    card = CatalogCard(entry("sd15"))
    qtbot.addWidget(card)
    assert "4.3 GB (2.1 GB in half precision)" in facts(card).text()


def test_a_model_without_safe_weights_says_why_and_cannot_be_installed(
    qtbot: QtBot, window: MainWindow
) -> None:
    manager = window.open_model_manager()
    card = next(card for card in manager.cards if card.entry.id == "arcane-diffusion")
    reason = card.findChild(QLabel, "unavailable")
    assert reason is not None and "pickle" in reason.text()
    assert not card.install_button.isEnabled()
    assert "can't be downloaded" in card.install_button.toolTip()
