"""The Layers and History panels act on the document (each edit one undo step) and follow it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from sfumato.desktop.document import BlendMode, Document, Rect
from sfumato.desktop.ui.document_host import DocumentHost
from sfumato.desktop.ui.history_panel import HistoryPanel
from sfumato.desktop.ui.layers_panel import LayersPanel
from tests.desktop.document.helpers import solid


@pytest.fixture
def host() -> DocumentHost:
    document = Document()
    for name, colour in (
        ("bottom", (255, 0, 0, 255)),
        ("middle", (0, 255, 0, 255)),
        ("top", (0, 0, 255, 255)),
    ):
        document.add_layer(name, pixels=solid(8, 8, colour))
    document.history.clear()
    return DocumentHost(document)


@pytest.fixture
def layers(qtbot: QtBot, host: DocumentHost) -> LayersPanel:
    panel = LayersPanel(host)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def names_in(panel: LayersPanel) -> list[str]:
    return [panel.list.item(row).text() for row in range(panel.list.count())]


def names_of(document: Document) -> list[str]:
    return [layer.name for layer in reversed(document.layers)]


def test_the_list_shows_the_stack_top_first_with_the_active_layer_selected(layers: LayersPanel) -> None:
    assert names_in(layers) == ["top", "middle", "bottom"]
    assert layers.list.currentItem().text() == "top"
    layers.list.setCurrentRow(2)
    assert layers.host.document.active_layer is layers.host.document.layers[0]


def test_visibility_rename_opacity_blend_and_lock_are_undoable(layers: LayersPanel, qtbot: QtBot) -> None:
    document = layers.host.document
    top = document.layers[2]
    layers.list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert top.visible is False
    layers.list.item(0).setText("sky")
    assert top.name == "sky"
    layers.opacity.setValue(40)
    assert top.opacity == pytest.approx(0.4)
    layers.blend.setCurrentIndex(layers.blend.findData(BlendMode.MULTIPLY.value))
    layers.blend.activated.emit(layers.blend.currentIndex())
    assert top.blend is BlendMode.MULTIPLY
    qtbot.mouseClick(layers.locked, Qt.MouseButton.LeftButton)
    assert top.locked is True
    assert document.history.labels == [
        "Layer visibility", "Rename layer", "Layer opacity", "Blend mode", "Lock layer",
    ]  # fmt: skip
    document.jump_to(0)
    assert (top.visible, top.name, top.opacity, top.blend, top.locked) == (
        True,
        "top",
        1.0,
        BlendMode.NORMAL,
        False,
    )
    assert names_in(layers)[0] == "top"
    assert layers.opacity.value() == 100


def test_buttons_add_duplicate_delete_reorder_merge_and_flatten(layers: LayersPanel) -> None:
    document = layers.host.document
    layers.add_layer()
    assert names_of(document) == ["Layer 4", "top", "middle", "bottom"]
    layers.list.setCurrentRow(1)
    layers.run(lambda: document.duplicate_layer())
    assert names_of(document) == ["Layer 4", "top copy", "top", "middle", "bottom"]
    layers.run(lambda: document.delete_layer())
    layers.run(lambda: layers.move_active(-1))
    assert names_of(document)[:3] == ["Layer 4", "middle", "top"]
    assert names_in(layers) == names_of(document)
    layers.run(lambda: document.merge_down())
    assert names_of(document) == ["Layer 4", "middle", "bottom"]  # "top" went into "bottom"
    layers.run(lambda: document.flatten())
    assert names_of(document) == ["Background"]


def test_a_refused_action_is_explained(layers: LayersPanel, qtbot: QtBot) -> None:
    layers.list.setCurrentRow(2)
    with qtbot.waitSignal(layers.message) as message:
        layers.run(lambda: layers.host.document.merge_down())
    assert "bottom layer" in message.args[0]


def test_dragging_a_layer_reorders_the_stack(layers: LayersPanel, qtbot: QtBot) -> None:
    model = layers.list.model()
    # What a drop in the list does: the row of "bottom" moves to the top.
    assert model.moveRow(QModelIndex(), 2, QModelIndex(), 0)
    qtbot.waitUntil(lambda: names_in(layers) == ["bottom", "top", "middle"])
    assert names_of(layers.host.document) == ["bottom", "top", "middle"]
    assert layers.host.document.history.labels == ["Move layer"]


def test_history_lists_steps_and_jumps_to_any_of_them(qtbot: QtBot, host: DocumentHost) -> None:
    panel = HistoryPanel(host)
    qtbot.addWidget(panel)
    document = host.document
    document.add_layer("one")
    document.set_layer_properties(document.layers[0], opacity=0.5)
    document.add_layer("two")
    assert [panel.list.item(row).text() for row in range(panel.list.count())] == [
        "Start", "New layer", "Layer opacity", "New layer",
    ]  # fmt: skip
    panel.list.setCurrentRow(1)
    assert len(document.layers) == 4 and document.history.position == 1
    panel.list.setCurrentRow(3)
    assert len(document.layers) == 5 and document.layers[0].opacity == 0.5


def test_a_run_of_identical_steps_is_one_row_with_a_count(qtbot: QtBot, host: DocumentHost) -> None:
    panel = HistoryPanel(host)
    qtbot.addWidget(panel)
    document = host.document
    for step in range(6):
        document.mask_rect(Rect(step * 8, 0, 4, 4))
    document.add_layer("one")

    def rows() -> list[str]:
        return [panel.list.item(row).text() for row in range(panel.list.count())]

    mask_step = document.history.labels[0]
    assert rows() == ["Start", f"{mask_step} ×6", "New layer"]
    document.undo()
    document.undo()  # the last mask step is undone: it leaves the run to show on its own
    assert rows() == ["Start", f"{mask_step} ×5", mask_step, "New layer"]
    assert panel.list.currentRow() == 1
    panel.list.setCurrentRow(0)
    assert document.history.position == 0
    assert rows() == ["Start", f"{mask_step} ×6", "New layer"]
    panel.list.setCurrentRow(2)
    assert document.history.position == 7


def test_panels_follow_a_replaced_document(layers: LayersPanel, host: DocumentHost) -> None:
    fresh = Document()
    fresh.add_layer("only")
    host.replace(fresh)
    assert names_in(layers) == ["only"]
