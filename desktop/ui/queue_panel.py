"""The Queue panel: the running generation and the ones waiting, each removable."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QWidget

from sfumato.core.api import Cancelled, Event, Failed, Finished, Job, Queued, Started, job_mode
from sfumato.desktop.engine_client import EngineClient
from sfumato.desktop.ui.widgets import tool_button

JOB_ROLE = Qt.ItemDataRole.UserRole


def describe(job: Job) -> str:
    prompt = " ".join(job.prompt.split())
    short = prompt if len(prompt) <= 40 else prompt[:39] + "…"
    batch = f" ×{job.batch}" if job.batch > 1 else ""
    return f"{job_mode(job).value}{batch}: {short or '(no prompt)'}"


class QueuePanel(QListWidget):
    def __init__(self, client: EngineClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queuePanel")
        self.client = client
        client.engine_event.connect(self._on_event)
        client.state_changed.connect(self.rebuild)
        self.rebuild()

    def job_ids(self) -> list[str]:
        return [str(self.item(row).data(JOB_ROLE)) for row in range(self.count())]

    def _on_event(self, event: Event) -> None:
        match event:
            case Queued() | Started() | Finished() | Cancelled() | Failed():
                self.rebuild()
            case _:
                pass

    def rebuild(self, _state: str = "") -> None:
        self.clear()
        running = self.client.running
        for job_id in [*([running] if running else []), *self.client.waiting()]:
            job = self.client.jobs.get(job_id)
            if job is None:
                continue
            status = "Running" if job_id == running else "Waiting"
            item = QListWidgetItem()
            item.setData(JOB_ROLE, job_id)
            self.addItem(item)
            self.setItemWidget(item, self._row(job_id, f"{status} · {describe(job)}"))
            item.setSizeHint(self.itemWidget(item).sizeHint())

    def _row(self, job_id: str, text: str) -> QWidget:
        row = QWidget()
        label = QLabel(text)
        label.setToolTip(text)
        remove = tool_button("✕", "Remove this job from the queue")
        remove.setObjectName(f"remove-{job_id}")
        remove.clicked.connect(lambda: self.client.cancel(job_id))
        layout = QHBoxLayout(row)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(label, 1)
        layout.addWidget(remove)
        return row
