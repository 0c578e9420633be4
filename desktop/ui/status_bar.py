"""The status bar: messages on the left; the engine's device, memory tier, memory in use and state on
the right."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from sfumato.core.api import MemoryTierUsed, Optimising
from sfumato.desktop.engine_client import EngineClient, EngineState
from sfumato.desktop.ui.memory import format_bytes, gpu_memory_in_use, ram_in_use

MEMORY_REFRESH_MS = 2000
MESSAGE_MS = 6000


class StudioStatusBar(QStatusBar):
    def __init__(self, client: EngineClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.pointer = QLabel()
        self.zoom = QLabel()
        self.device = QLabel()
        self.memory = QLabel()
        self.memory_tier = QLabel()
        self.engine_state = QLabel()
        self.engine_state.setObjectName("engineState")
        for label in (self.pointer, self.zoom, self.device, self.memory_tier, self.memory, self.engine_state):
            self.addPermanentWidget(label)
        self._vram: int | None = None
        self._vram_task: asyncio.Task[None] | None = None
        self._timer = QTimer(self, interval=MEMORY_REFRESH_MS)
        self._timer.timeout.connect(self.refresh_memory)
        self._timer.start()
        client.state_changed.connect(self.refresh_engine)
        client.engine_event.connect(self.show_memory_tier)
        self.refresh_engine()
        self.refresh_memory()

    def show_message(self, text: str) -> None:
        self.showMessage(text, MESSAGE_MS)

    def show_pointer(self, x: int, y: int) -> None:
        self.pointer.setText(f"{x}, {y}")

    def show_zoom(self, scale: float) -> None:
        self.zoom.setText(f"{scale * 100:.0f} %")

    def show_memory_tier(self, event: object) -> None:
        """The tier the running job uses, with why in the tooltip; a retry one tier down is said aloud,
        and so is the model being optimised for the GPU."""
        if isinstance(event, Optimising):
            self.show_message(event.message)
        if not isinstance(event, MemoryTierUsed):
            return
        self.memory_tier.setText(f"Memory: {event.tier}")
        self.memory_tier.setToolTip(event.reason)
        if event.retry:
            self.show_message(event.reason)

    def refresh_engine(self, _state: str = "") -> None:
        info = self.client.info
        if info is not None:
            self.device.setText(f"{info.device_name} · {info.dtype}")
            self.device.setToolTip(", ".join(f"{name} {version}" for name, version in info.versions.items()))
        state = self.client.state
        text = f"Engine: {state.value}"
        if state is EngineState.FAILED and self.client.error:
            self.engine_state.setToolTip(self.client.error)
        self.engine_state.setText(text)
        self.engine_state.setProperty("problem", state in (EngineState.FAILED, EngineState.RESTARTING))
        self.engine_state.style().unpolish(self.engine_state)
        self.engine_state.style().polish(self.engine_state)

    def refresh_memory(self) -> None:
        pid = self.client.worker_pid
        ram = ram_in_use(pid)
        self.memory.setText(f"RAM {format_bytes(ram)} · VRAM {format_bytes(self._vram)}")
        info = self.client.info
        if info is not None and info.device == "cuda" and (self._vram_task is None or self._vram_task.done()):
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no asyncio loop runs on this Qt loop (a plain Qt test)
                return
            self._vram_task = loop.create_task(self._measure_vram(info.device, pid))

    async def _measure_vram(self, device: str, pid: int | None) -> None:
        self._vram = await gpu_memory_in_use(device, pid)
