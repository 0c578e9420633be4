"""The model manager window: a Catalog tab to download curated models, an Installed tab to remove,
check, import and convert models, and a download bar with progress, speed, time left and Cancel.

Downloads, imports, conversions, checks and removals run on worker threads; their results come back
to the window through queued Qt signals, so the studio stays responsive."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from sfumato.core.api import SfumatoError
from sfumato.core.formatting import format_bytes
from sfumato.core.models.catalog import CatalogEntry, EntryKind, catalog
from sfumato.core.models.convert import import_legacy
from sfumato.core.models.download import download, plan_download
from sfumato.core.models.hub_errors import DownloadCancelled
from sfumato.core.models.imports import import_file
from sfumato.core.models.inventory import InstalledModel, Origin, list_installed, remove, verify
from sfumato.desktop.ui.model_manager_parts import (
    BackgroundTask,
    CatalogCard,
    DownloadBar,
    Work,
    base_name,
    describe_failure,
)
from sfumato.desktop.ui.model_settings import ModelSettingsDialog

SAFETENSORS_FILTER = "Safetensors files (*.safetensors);;All files (*)"
LEGACY_FILTER = "Legacy model files (*.ckpt *.pt *.pth *.bin);;All files (*)"
INSTALLED_COLUMNS = ("Name", "Kind", "Base", "Size on disk", "Status", "")


class ModelManager(QWidget):
    """The Models → Model Manager… window."""

    installed_changed = Signal()
    model_settings_changed = Signal(str)  # the model id whose own settings the artist changed

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        half_precision: Callable[[], bool] = lambda: False,
        samplers: Callable[[], list[str]] = list,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.samplers = samplers  # the names a model's Settings dialog offers
        # Whether the engine runs in float16 (it knows its device; this process never loads torch).
        self.half_precision = half_precision
        self.setObjectName("modelManager")
        self.setWindowTitle("Model Manager — Sfumato")
        self.resize(820, 640)
        self._tasks: set[BackgroundTask] = set()
        self._cancel: threading.Event | None = None
        self.confirmation: QMessageBox | None = None
        self.installed: list[InstalledModel] = []
        self.tabs = QTabWidget()
        self.cards = [CatalogCard(entry) for entry in catalog()]
        for card in self.cards:
            card.install_button.clicked.connect(lambda _checked=False, e=card.entry: self.install(e))
        self.tabs.addTab(self._catalog_tab(), "Catalog")
        self.tabs.addTab(self._installed_tab(), "Installed")
        self.message = QLabel()
        self.message.setObjectName("managerMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        self.download_bar = DownloadBar()
        self.download_bar.cancel_button.clicked.connect(self.cancel_download)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.download_bar)
        self.refresh()

    # ---- building ------------------------------------------------------------------------------

    def _catalog_tab(self) -> QWidget:
        column = QWidget()
        layout = QVBoxLayout(column)
        intro = QLabel(
            "Community models ready to download. They go into the shared Hugging Face cache, "
            "where other tools can use them too."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        for card in self.cards:
            layout.addWidget(card)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(column)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        return scroll

    def _installed_tab(self) -> QWidget:
        self.table = QTableWidget(0, len(INSTALLED_COLUMNS))
        self.table.setObjectName("installedModels")
        self.table.setHorizontalHeaderLabels(INSTALLED_COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(INSTALLED_COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.import_button = QPushButton("Import file…")
        self.import_button.setToolTip("Add a .safetensors checkpoint, textual-inversion embedding or LoRA")
        self.import_button.clicked.connect(self.ask_import)
        self.convert_button = QPushButton("Convert legacy file…")
        self.convert_button.setToolTip(
            "Safely convert an old .ckpt/.pt/.bin file to .safetensors and add it (no code in it runs)"
        )
        self.convert_button.clicked.connect(self.ask_convert)
        self.empty_hint = QLabel(
            "No models installed yet. Install one from the Catalog tab, or add a file you already have."
        )
        self.empty_hint.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.convert_button)
        buttons.addStretch(1)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        return tab

    # ---- state ---------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    @property
    def downloading(self) -> bool:
        return self._cancel is not None

    def refresh(self) -> None:
        """Read what is installed again and show it in both tabs."""
        try:
            self.installed = list_installed()
        except (SfumatoError, OSError) as error:
            self.installed = []
            self.show_message(describe_failure(error))
        status = {model.id: model.status for model in self.installed}
        for card in self.cards:
            card.show_status(status.get(card.entry.id), self.downloading)
        self._fill_table()

    def _fill_table(self) -> None:
        self.empty_hint.setVisible(not self.installed)
        self.table.setRowCount(len(self.installed))
        for row, model in enumerate(self.installed):
            kind = model.kind if model.variant in (None, "normal") else f"{model.kind} ({model.variant})"
            size = format_bytes(model.size_bytes)
            if model.shared_bytes and model.origin is Origin.IMPORTED:
                size += " (linked to your original)"
            elif model.shared_bytes:
                size += f" ({format_bytes(model.shared_bytes)} shared)"
            cells = (model.name, kind, base_name(model.base), size, str(model.status))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{model.id}: {model.location}")
                self.table.setItem(row, column, item)
            self.table.setCellWidget(row, len(cells), self._row_buttons(model))
        self.table.resizeRowsToContents()

    def _row_buttons(self, model: InstalledModel) -> QWidget:
        verify_button = QPushButton("Verify")
        verify_button.setToolTip("Read every file again and compare it with its recorded checksum")
        verify_button.clicked.connect(lambda _checked=False, m=model.id: self.verify(m))
        remove_button = QPushButton("Remove")
        remove_button.setObjectName(f"remove-{model.id}")
        remove_button.setEnabled(model.origin is not Origin.DEMO)
        remove_button.clicked.connect(lambda _checked=False, m=model: self.ask_remove(m))
        cell = QWidget()
        layout = QHBoxLayout(cell)
        layout.setContentsMargins(2, 0, 2, 0)
        if model.kind == "checkpoint":
            settings_button = QPushButton("Settings…")
            settings_button.setObjectName(f"settings-{model.id}")
            settings_button.setToolTip("The size, steps, CFG scale and sampler this model starts with")
            settings_button.clicked.connect(lambda _checked=False, m=model: self.edit_settings(m))
            layout.addWidget(settings_button)
        layout.addWidget(verify_button)
        layout.addWidget(remove_button)
        return cell

    def edit_settings(self, model: InstalledModel) -> ModelSettingsDialog:
        """The Settings dialog of an installed model (not blocking the window)."""
        dialog = ModelSettingsDialog(model.id, model.name, self.samplers(), self)
        dialog.saved.connect(self.model_settings_changed)
        dialog.open()
        return dialog

    def show_message(self, text: str, *, problem: bool = True) -> None:
        self.message.setProperty("problem", problem)
        self.message.setStyleSheet("color: #e8a06a;" if problem else "")
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _run(
        self,
        work: Work,
        on_done: Callable[[Any], None],
        on_progress: Callable[[Any], None] | None = None,
        on_failed: Callable[[BaseException], None] | None = None,
    ) -> BackgroundTask:
        task = BackgroundTask(self)
        self._tasks.add(task)

        def finished(result: object) -> None:
            self._tasks.discard(task)
            task.deleteLater()
            on_done(result)

        def failed(error: BaseException) -> None:
            self._tasks.discard(task)
            task.deleteLater()
            (on_failed or self._failed)(error)

        task.done.connect(finished)
        task.failed.connect(failed)
        if on_progress is not None:
            task.progressed.connect(on_progress)
        task.start(work)
        return task

    def _failed(self, error: BaseException) -> None:
        self.show_message(describe_failure(error), problem=not isinstance(error, DownloadCancelled))
        self.refresh()

    # ---- download ------------------------------------------------------------------------------

    def install(self, entry: CatalogEntry) -> None:
        """Download a catalog model on a worker thread, showing progress in the download bar."""
        if self.downloading:
            return
        cancel = threading.Event()
        self._cancel = cancel
        self.show_message("")
        self.download_bar.begin(entry.name)
        for card in self.cards:
            card.install_button.setEnabled(False)

        fp16 = self.half_precision()

        def work(report: Callable[[object], None]) -> object:
            plan = plan_download(entry.repo, revision=entry.revision, fp16=fp16)
            return download(plan, on_progress=report, cancel=cancel)

        def done(_folder: object) -> None:
            self._end_download()
            usage = (
                "Pick it in the Generate panel."
                if entry.kind is EntryKind.CHECKPOINT
                else "Live previews use it from the next model the engine loads."
            )
            self.show_message(f"{entry.name} is installed. {usage}", problem=False)
            self.refresh()
            self.installed_changed.emit()

        def failed(error: BaseException) -> None:
            self._end_download()
            self._failed(error)

        self._run(work, done, self.download_bar.show_progress, failed)

    def cancel_download(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.download_bar.cancel_button.setEnabled(False)
            self.download_bar.details.setText("Stopping…")

    def _end_download(self) -> None:
        self._cancel = None
        self.download_bar.hide()

    # ---- installed models ----------------------------------------------------------------------

    def ask_remove(self, model: InstalledModel) -> None:
        """Ask before deleting; the files go only after Remove is clicked."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove model",
            f"Remove {model.name}? This deletes {format_bytes(model.size_bytes - model.shared_bytes)} "
            "from this computer. You can download or import it again later.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.confirmation = box

        def answered(_result: int) -> None:
            self.confirmation = None
            clicked = box.clickedButton()
            if clicked is not None and box.buttonRole(clicked) is QMessageBox.ButtonRole.DestructiveRole:
                self.remove(model.id)

        box.finished.connect(answered)
        box.open()

    def remove(self, model_id: str) -> None:
        def done(removed: Any) -> None:
            self.show_message(
                f"Removed {removed.model.name}; {format_bytes(removed.freed_bytes)} freed.", problem=False
            )
            self.refresh()
            self.installed_changed.emit()

        self._run(lambda _report: remove(model_id), done)

    def verify(self, model_id: str) -> None:
        self.show_message(f"Checking {model_id}…", problem=False)

        def done(report: Any) -> None:
            if report.ok:
                self.show_message(f"{report.model_id}: all {report.checked} files are intact.", problem=False)
                return
            problems = "\n".join(f"{problem.path}: {problem.problem}" for problem in report.problems)
            self.show_message(
                f"{report.model_id}: {len(report.problems)} of {report.checked} files have problems. "
                f"Remove it and install it again.\n{problems}"
            )

        self._run(lambda _report: verify(model_id), done)

    def ask_import(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Import a model file", "", SAFETENSORS_FILTER)
        if path:
            self.import_file(path)

    def ask_convert(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Convert a legacy model file", "", LEGACY_FILTER)
        if path:
            self.convert_file(path)

    def import_file(self, path: str) -> None:
        """Add a .safetensors checkpoint, embedding or LoRA on a worker thread."""
        self.show_message(f"Importing {Path(path).name}…", problem=False)
        self._run(lambda _report: import_file(Path(path)), self._imported)

    def convert_file(self, path: str) -> None:
        """Convert an old pickle-based file in a locked-down process, then add it."""
        self.show_message(f"Converting {Path(path).name} safely (no code in it can run)…", problem=False)
        self._run(lambda _report: import_legacy(Path(path)), self._imported)

    def _imported(self, record: Any) -> None:
        origin = f" (converted from {record.converted_from})" if record.converted_from else ""
        self.show_message(f"Added {record.kind} {record.name}{origin}.", problem=False)
        self.refresh()
        self.installed_changed.emit()

    def shut_down(self) -> None:
        """Stop a running download (the studio is closing); its partial file is kept for next time."""
        if self._cancel is not None:
            self._cancel.set()
