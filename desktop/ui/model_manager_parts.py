"""The pieces of the model manager window: catalog cards, the download bar, and the worker-thread
task whose results and progress come back to the window's thread as queued Qt signals."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from sfumato.core.api import SfumatoError
from sfumato.core.formatting import download_amounts, format_bytes
from sfumato.core.models.catalog import CatalogEntry
from sfumato.core.models.download import DownloadProgress
from sfumato.core.models.inventory import Status
from sfumato.desktop.ui.model_picker import BASE_NAMES

# Work for a worker thread; it may report progress through the callable it is given.
Work = Callable[[Callable[[object], None]], object]


class BackgroundTask(QObject):
    """One piece of work on a worker thread; `done` or `failed` arrive on the window's thread."""

    done = Signal(object)
    failed = Signal(object)
    progressed = Signal(object)

    def start(self, work: Work) -> None:
        threading.Thread(target=self._run, args=(work,), name="model-manager", daemon=True).start()

    def _run(self, work: Work) -> None:
        try:
            result = work(self.progressed.emit)
        except BaseException as error:  # shown in the window, never lost on the worker thread
            self.failed.emit(error)
        else:
            self.done.emit(result)


def describe_failure(error: BaseException) -> str:
    """The artist-facing words for a failure: our own errors carry them already."""
    if isinstance(error, SfumatoError):
        return error.message
    return f"Something went wrong: {error}"


def progress_text(progress: DownloadProgress) -> str:
    """`900.0 MB of 2.1 GB · 11.2 MB/s · 1 min 50 s left`"""
    return " · ".join(download_amounts(progress))


def base_name(base: str | None) -> str:
    return BASE_NAMES.get(base or "", "unknown")


def download_size(entry: CatalogEntry) -> str:
    """The download size, and the smaller half-precision one where the repository has it."""
    full, half = entry.download_bytes(fp16=False), entry.download_bytes(fp16=True)
    if half == full:
        return format_bytes(full)
    return f"{format_bytes(full)} ({format_bytes(half)} in half precision)"


class CatalogCard(QFrame):
    """One catalog model: what it is, how to prompt it, its size and licence, and Install."""

    def __init__(self, entry: CatalogEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.setObjectName(f"catalog-{entry.id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        title = QLabel(f"<b>{entry.name}</b>")
        facts = [base_name(entry.base), f"{entry.resolution} px"]
        if entry.inpainting:
            facts.append("inpainting")
        facts += [download_size(entry), entry.licence]
        details = QLabel(" · ".join(facts))
        details.setObjectName("facts")
        if entry.licence_url:
            details.setToolTip(f"{entry.licence}: {entry.licence_url}")
        description = QLabel(entry.description)
        description.setWordWrap(True)
        style = QLabel(f"<i>Prompting:</i> {entry.prompt_style}")
        style.setWordWrap(True)
        style.setTextFormat(Qt.TextFormat.RichText)
        self.install_button = QPushButton("Install")
        self.install_button.setToolTip(f"Download {entry.name} from {entry.repo}")
        if not entry.available:
            self.install_button.setToolTip(f"{entry.name} can't be downloaded: {entry.unavailable}")
            self.install_button.setEnabled(False)
        self.state = QLabel()
        self.state.setObjectName("installedState")
        text = QVBoxLayout()
        text.addWidget(title)
        text.addWidget(details)
        text.addWidget(description)
        text.addWidget(style)
        if not entry.available:
            reason = QLabel(f"Not downloadable: {entry.unavailable}")
            reason.setObjectName("unavailable")
            reason.setWordWrap(True)
            text.addWidget(reason)
        side = QVBoxLayout()
        side.addWidget(self.install_button)
        side.addWidget(self.state, 0, Qt.AlignmentFlag.AlignHCenter)
        side.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(text, 1)
        layout.addLayout(side)

    def show_status(self, status: Status | None, busy: bool) -> None:
        installed = status is Status.READY
        self.install_button.setVisible(not installed)
        self.install_button.setText("Resume" if status is Status.INCOMPLETE else "Install")
        self.install_button.setEnabled(not busy and self.entry.available)
        self.state.setText("Installed" if installed else "")
        self.state.setVisible(installed)


class DownloadBar(QFrame):
    """What is downloading, how far it is, how fast, how long is left, and Cancel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("downloadBar")
        self.title = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.details = QLabel()
        self.details.setObjectName("downloadDetails")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the download; installing again continues where it stopped")
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(row)
        layout.addWidget(self.details)
        self.hide()

    def begin(self, name: str) -> None:
        self.title.setText(f"Downloading {name}…")
        self.progress.setValue(0)
        self.details.setText("Asking Hugging Face which files to fetch…")
        self.cancel_button.setEnabled(True)
        self.show()

    def show_progress(self, progress: DownloadProgress) -> None:
        self.progress.setValue(round(progress.fraction * 1000))
        self.details.setText(progress_text(progress))
