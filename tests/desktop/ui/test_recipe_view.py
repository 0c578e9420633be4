"""A layer's recipe can be read and reused: in the Layers panel's tooltip, in the Recipe dialog, and
from a PNG brought into the studio with its recipe."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from sfumato.core.api import Mode, Recipe
from sfumato.core.metadata import format_parameters, parse_parameters, save_png
from sfumato.desktop.ui.layers_panel import LAYER_ROLE
from sfumato.desktop.ui.main_window import MainWindow

RECIPE = Recipe(
    prompt="a lighthouse at dusk, oil paint",
    negative="blurry",
    model="demo",
    model_hash="58367da7d3",
    seed=4242,
    sampler="DPM++ 2M Karras",
    steps=17,
    cfg=2.5,
    width=64,
    height=64,
    mode=Mode.TXT2IMG,
)


def tooltip_of(window: MainWindow, layer_id: str) -> str:
    for row in range(window.layers.list.count()):
        item = window.layers.list.item(row)
        if item.data(LAYER_ROLE) == layer_id:
            return str(item.data(Qt.ItemDataRole.ToolTipRole))
    raise AssertionError("the layer is not listed")


def test_hovering_a_generated_layer_shows_its_recipe_and_a_painted_one_its_visibility(
    window: MainWindow,
) -> None:
    document = window.host.document
    generated = document.add_generated_layer(np.zeros((64, 64, 3), np.uint8), RECIPE)
    painted = document.add_layer()
    tip = tooltip_of(window, generated.id)
    for shown in ("a lighthouse at dusk, oil paint", "demo", "4242", "DPM++ 2M Karras", "64 × 64"):
        assert shown in tip, f"{shown!r} missing from the tooltip"
    assert tooltip_of(window, painted.id) == f"{painted.name}\nVisible"


def test_the_recipe_dialog_shows_it_whole_copies_it_as_a1111_text_and_fills_the_panel(
    window: MainWindow, qtbot: QtBot
) -> None:
    layer = window.host.document.add_generated_layer(np.zeros((64, 64, 3), np.uint8), RECIPE)
    menu = window.layers.context_menu(layer)
    show = next(action for action in menu.actions() if action.text().startswith("Show recipe"))
    show.trigger()
    dialog = window.recipe_dialog
    assert dialog is not None and dialog.isVisible()
    texts = [label.text() for label in dialog.findChildren(QLabel)]
    for shown in ("blurry", "58367da7d3", "DPM++ 2M Karras", "4242", "2.5"):
        assert shown in texts, f"{shown!r} missing from {texts}"

    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert copied == format_parameters(RECIPE) and parse_parameters(copied) == RECIPE

    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    panel = window.generation
    assert panel.prompt.toPlainText() == RECIPE.prompt and panel.negative.toPlainText() == "blurry"
    assert (panel.seed.value(), panel.random_seed.isChecked(), panel.steps.value()) == (4242, False, 17)
    assert (panel.cfg.value(), panel.sampler.currentText()) == (2.5, "DPM++ 2M Karras")
    assert not dialog.isVisible()


def test_a_painted_layer_has_no_recipe_to_show(window: MainWindow) -> None:
    layer = window.host.document.add_layer()
    assert window.show_recipe(layer) is None
    menu = window.layers.context_menu(layer)
    assert not next(a for a in menu.actions() if a.text().startswith("Show recipe")).isEnabled()


def test_a_dropped_png_with_a_recipe_brings_it_and_offers_to_fill_the_panel(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    png = tmp_path / "made-elsewhere.png"
    save_png(png, np.full((64, 64, 3), 30, np.uint8), RECIPE)
    window.file_commands.drop_files([png])
    (layer,) = window.host.document.layers
    assert layer.recipe == RECIPE
    assert "4242" in tooltip_of(window, layer.id)
    offers = window.offers
    assert offers.isVisible() and "recipe" in offers.offered
    assert window.generation.prompt.toPlainText() == "", "nothing changes before the artist accepts"

    qtbot.mouseClick(offers.accept_button, Qt.MouseButton.LeftButton)
    assert window.generation.prompt.toPlainText() == RECIPE.prompt
    assert window.generation.seed.value() == 4242 and not offers.isVisible()


def test_a_png_without_a_recipe_comes_in_as_a_plain_layer_without_an_offer(
    window: MainWindow, tmp_path: Path
) -> None:
    png = tmp_path / "photo.png"
    save_png(png, np.full((16, 16, 3), 200, np.uint8), None)
    window.file_commands.import_image(png)
    (layer,) = window.host.document.layers
    assert layer.recipe is None and not window.offers.isVisible()


def test_layer_menu_shows_the_active_layers_recipe_or_says_why_there_is_none(window: MainWindow) -> None:
    document = window.host.document
    document.add_generated_layer(np.zeros((64, 64, 3), np.uint8), RECIPE)
    window.actions_by_name["show_recipe"].trigger()
    assert window.recipe_dialog is not None and window.recipe_dialog.recipe == RECIPE
    window.recipe_dialog.close()

    document.add_layer()
    window.actions_by_name["show_recipe"].trigger()
    assert any("no recipe" in text for text in window.open_messages)


def test_using_a_recipe_made_at_another_size_offers_that_size_for_the_frame(
    window: MainWindow, qtbot: QtBot
) -> None:
    wide = replace(RECIPE, width=128, height=96)
    layer = window.host.document.add_generated_layer(np.zeros((96, 128, 3), np.uint8), wide)
    dialog = window.show_recipe(layer)
    assert dialog is not None
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert "128 × 96" in window.offers.offered
    qtbot.mouseClick(window.offers.accept_button, Qt.MouseButton.LeftButton)
    frame = window.host.document.frame
    assert (frame.width, frame.height) == (128, 96)


def test_using_a_recipe_whose_model_is_not_installed_says_so(window: MainWindow) -> None:
    window.use_recipe(replace(RECIPE, model="anything-v3-fp16"))
    assert window.generation.prompt.toPlainText() == RECIPE.prompt
    assert any("anything-v3-fp16" in text and "not installed" in text for text in window.open_messages)
