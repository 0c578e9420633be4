"""The Layers panel: the stack top to bottom with thumbnails and visibility, the active layer's
opacity, blend mode and lock, and the actions on layers. Drag a layer to reorder it; double-click
its name to rename it. Every change goes through the document, so each is one undo step."""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QSizePolicy,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sfumato.core.api import BadInput
from sfumato.desktop.document import (
    ActiveLayerChanged,
    BlendMode,
    Change,
    Document,
    Layer,
    LayersChanged,
    PixelsChanged,
)
from sfumato.desktop.ui.document_host import DocumentHost
from sfumato.desktop.ui.qimage import to_qimage
from sfumato.desktop.ui.recipe_view import recipe_summary
from sfumato.desktop.ui.widgets import slider, tool_button

THUMBNAIL = 40
THUMBNAIL_DELAY_MS = 250
LAYER_ROLE = Qt.ItemDataRole.UserRole


def thumbnail(layer: Layer, size: int = THUMBNAIL) -> QIcon:
    pixels = layer.pixels
    if pixels.size == 0:
        return QIcon()
    step = max(1, -(-max(pixels.shape[:2]) // (size * 2)))  # sample cheaply, then scale smoothly
    image = to_qimage(np.ascontiguousarray(pixels[::step, ::step]))
    scaled = image.scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    return QIcon(QPixmap.fromImage(scaled))


class _WithinWidth(QStyledItemDelegate):
    """Rows no wider than the list, so a long name is elided rather than cut off."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        view = self.parent()
        if isinstance(view, QListWidget):
            size.setWidth(min(size.width(), view.viewport().width()))
        return size


def layer_tooltip(layer: Layer) -> str:
    """The layer's whole name and whether it is shown, and a generated layer's recipe."""
    shown = "Visible" if layer.visible else "Hidden"
    if layer.recipe is not None:
        return f"<b>{html.escape(layer.name)}</b> ({shown.lower()}){recipe_summary(layer.recipe)}"
    return f"{layer.name}\n{shown}"


class LayerList(QListWidget):
    """The stack, topmost layer first; reports a drag-reorder as (old row, new row)."""

    reordered = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerList")
        self.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked)
        # A long name (a generated layer's whole prompt) ends in "…" on screen; its tooltip shows it all.
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setItemDelegate(_WithinWidth(self))
        self.model().rowsMoved.connect(self._on_rows_moved)

    def _on_rows_moved(
        self,
        _parent: QModelIndex | QPersistentModelIndex,
        start: int,
        _end: int,
        _destination: QModelIndex | QPersistentModelIndex,
        row: int,
    ) -> None:
        self.reordered.emit(start, row - 1 if row > start else row)


class LayersPanel(QWidget):
    message = Signal(str)
    reroll_requested = Signal(object)  # the generated Layer to make again with a new seed
    copy_recipe_requested = Signal(object)  # the generated Layer whose recipe fills the Generate panel
    show_recipe_requested = Signal(object)  # the generated Layer whose recipe to show in full

    def __init__(self, host: DocumentHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layersPanel")
        self.host = host
        self._updating = False
        self.list = LayerList()
        self.list.currentItemChanged.connect(self._on_current_item)
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.reordered.connect(self._on_reordered)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._show_context_menu)
        self.opacity = slider(0, 100, "Layer opacity")
        self.opacity.setValue(100)  # what a new layer has, shown while no layer is selected too
        self.opacity_label = QLabel("100 %")
        self.opacity.valueChanged.connect(self._on_opacity_moved)
        self.opacity.sliderReleased.connect(self._commit_opacity)
        self.blend = QComboBox()
        for mode in BlendMode:
            self.blend.addItem(mode.value.replace("-", " ").capitalize(), mode.value)
        self.blend.activated.connect(self._on_blend)
        self.locked = QCheckBox("Lock")
        self.locked.setToolTip("Protect the layer from painting and moving")
        self.locked.clicked.connect(self._on_lock)
        self._thumbnails_due: set[str] = set()
        self._thumbnail_timer = QTimer(self, singleShot=True, interval=THUMBNAIL_DELAY_MS)
        self._thumbnail_timer.timeout.connect(self._refresh_thumbnails)
        self._build_layout()
        host.changed.connect(self._on_change)
        host.replaced.connect(lambda _document: self.rebuild())
        self.rebuild()

    def _button(self, text: str, tip: str, action: Callable[[], object]) -> QToolButton:
        button = tool_button(text, tip)
        button.clicked.connect(lambda: self.run(action))
        return button

    def _build_layout(self) -> None:
        properties = QGridLayout()
        properties.addWidget(QLabel("Opacity"), 0, 0)
        properties.addWidget(self.opacity, 0, 1)
        properties.addWidget(self.opacity_label, 0, 2)
        properties.addWidget(QLabel("Blend"), 1, 0)
        properties.addWidget(self.blend, 1, 1)
        properties.addWidget(self.locked, 1, 2)
        buttons = QGridLayout()  # two rows keep the panel narrow enough for a laptop's screen
        for index, (text, tip, action) in enumerate((
            ("New", "Add a layer", self.add_layer),
            ("Copy", "Duplicate the layer", lambda: self.document.duplicate_layer()),
            ("Delete", "Delete the layer", lambda: self.document.delete_layer()),
            ("Flatten", "Flatten all layers into one", lambda: self.document.flatten()),
            ("↑", "Move the layer up", lambda: self.move_active(+1)),
            ("↓", "Move the layer down", lambda: self.move_active(-1)),
            ("Merge", "Merge the layer into the one below", lambda: self.document.merge_down()),
        )):  # fmt: skip
            button = self._button(text, tip, action)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button, index // 4, index % 4)
        layout = QVBoxLayout(self)
        layout.addLayout(properties)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    @property
    def document(self) -> Document:
        return self.host.document

    def run(self, action: Callable[[], object]) -> None:
        """Do a layer action, telling the artist in plain words when it cannot be done."""
        try:
            action()
        except BadInput as error:
            self.message.emit(error.message)

    # ---- actions -------------------------------------------------------------------------------

    def add_layer(self) -> None:
        self.document.add_layer()

    def move_active(self, direction: int) -> None:
        layer = self.document.active_layer
        if layer is None:
            raise BadInput("There is no layer to move: add or select a layer first.")
        index = self.document.index_of(layer) + direction
        if 0 <= index < len(self.document.layers):
            self.document.move_layer(layer, index)

    # ---- showing the stack ---------------------------------------------------------------------

    def rebuild(self) -> None:
        self._updating = True
        try:
            self.list.clear()
            for layer in reversed(self.document.layers):
                item = QListWidgetItem(thumbnail(layer), layer.name)
                item.setData(LAYER_ROLE, layer.id)
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsEditable
                    | Qt.ItemFlag.ItemIsUserCheckable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
                item.setCheckState(Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked)
                item.setToolTip(layer_tooltip(layer))
                self.list.addItem(item)
                if layer is self.document.active_layer:
                    self.list.setCurrentItem(item)
        finally:
            self._updating = False
        self._show_properties()

    def _show_properties(self) -> None:
        layer = self.document.active_layer
        for widget in (self.opacity, self.blend, self.locked):
            widget.setEnabled(layer is not None)
            widget.blockSignals(True)
        if layer is not None:
            self.opacity.setValue(round(layer.opacity * 100))
            self.opacity_label.setText(f"{round(layer.opacity * 100)} %")
            self.blend.setCurrentIndex(self.blend.findData(layer.blend.value))
            self.locked.setChecked(layer.locked)
        for widget in (self.opacity, self.blend, self.locked):
            widget.blockSignals(False)

    def context_menu(self, layer: Layer) -> QMenu:
        """Re-roll and copy-recipe for a generated layer (disabled for painted ones)."""
        menu = QMenu(self)
        reroll = menu.addAction("Re-roll (same recipe, new seed)")
        reroll.triggered.connect(lambda: self.reroll_requested.emit(layer))
        copy = menu.addAction("Copy recipe to the Generate panel")
        copy.triggered.connect(lambda: self.copy_recipe_requested.emit(layer))
        show = menu.addAction("Show recipe…")
        show.triggered.connect(lambda: self.show_recipe_requested.emit(layer))
        for action in (reroll, copy, show):
            action.setEnabled(layer.recipe is not None)
        return menu

    def _show_context_menu(self, position: QPoint) -> None:
        layer = self.layer_of(self.list.itemAt(position))
        if layer is not None:
            self.context_menu(layer).exec(self.list.viewport().mapToGlobal(position))

    def layer_of(self, item: QListWidgetItem | None) -> Layer | None:
        if item is None:
            return None
        layer_id = item.data(LAYER_ROLE)
        return next((layer for layer in self.document.layers if layer.id == layer_id), None)

    def _on_change(self, change: Change) -> None:
        match change:
            case LayersChanged() | ActiveLayerChanged():
                self.rebuild()
            case PixelsChanged(_rect, layer) if layer is not None:
                self._thumbnails_due.add(layer.id)
                self._thumbnail_timer.start()

    def _refresh_thumbnails(self) -> None:
        self._updating = True
        try:
            for row in range(self.list.count()):
                item = self.list.item(row)
                layer = self.layer_of(item)
                if layer is not None and layer.id in self._thumbnails_due:
                    item.setIcon(thumbnail(layer))
        finally:
            self._updating = False
        self._thumbnails_due.clear()

    # ---- edits from the panel ------------------------------------------------------------------

    def _on_current_item(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if not self._updating and (layer := self.layer_of(item)) is not None:
            self.document.set_active_layer(layer)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        layer = self.layer_of(item)
        if self._updating or layer is None:
            return
        visible = item.checkState() == Qt.CheckState.Checked
        name = item.text().strip() or layer.name
        self.run(lambda: self.document.set_layer_properties(layer, visible=visible, name=name))

    def _on_reordered(self, old_row: int, new_row: int) -> None:
        if self._updating:
            return
        count = len(self.document.layers)
        layer = self.document.layers[count - 1 - old_row]
        self.run(lambda: self.document.move_layer(layer, count - 1 - new_row))
        QTimer.singleShot(0, self.rebuild)  # the list must match the document even if it refused

    def _on_opacity_moved(self, value: int) -> None:
        self.opacity_label.setText(f"{value} %")
        if not self.opacity.isSliderDown():
            self._commit_opacity()

    def _commit_opacity(self) -> None:
        layer = self.document.active_layer
        if layer is not None:
            self.document.set_layer_properties(layer, opacity=self.opacity.value() / 100)

    def _on_blend(self, _index: int) -> None:
        layer = self.document.active_layer
        if layer is not None:
            self.document.set_layer_properties(layer, blend=BlendMode(self.blend.currentData()))

    def _on_lock(self, locked: bool) -> None:
        layer = self.document.active_layer
        if layer is not None:
            self.document.set_layer_properties(layer, locked=locked)
