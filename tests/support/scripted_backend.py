"""The engine's serving loop played back without a model, for driving a real `Engine` through many
jobs fast: each job sends Started, one Step per step with a preview, and Finished with its images,
all at the job's size and from a thread, as the real loop does.

    engine = await Engine.start(backend=scripted_backend(full_previews=True))
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import numpy as np

from sfumato.core.api import Cancelled, Finished, Job, Recipe, Started, Step, job_mode
from sfumato.core.engine import BackendFactory
from sfumato.core.engine_backends import OnExit, OnMessage
from sfumato.core.engine_settings import EngineInfo, EngineSettings
from sfumato.core.protocol import Cancel, Shutdown, Submit

READY = EngineInfo("cpu", "Scripted CPU", "float32", {"sfumato": "scripted"})
LATENT_SCALE = 8  # the linear previewer's images are latent-sized; TAESD's are full-sized


class ScriptedBackend:
    pid: int | None = None

    def __init__(
        self, settings: EngineSettings, on_message: OnMessage, on_exit: OnExit, *, full_previews: bool
    ) -> None:
        self._inbox: queue.Queue[Any] = queue.Queue()
        self._on_message = on_message
        self._full_previews = full_previews
        self._cancelled: set[str] = set()

        def run() -> None:
            try:
                on_message(READY)
                while not isinstance(message := self._inbox.get(), Shutdown):
                    if isinstance(message, Submit):
                        self._run(message.job_id, message.job)
            finally:
                on_exit(None)

        self._thread = threading.Thread(target=run, name="scripted-engine", daemon=True)
        self._thread.start()

    def send(self, message: Any) -> None:
        if isinstance(message, Cancel):
            self._cancelled.add(message.job_id)
        else:
            self._inbox.put(message)

    def close(self, timeout: float) -> None:
        self._inbox.put(Shutdown())
        self._thread.join(timeout)

    def kill(self) -> None:
        self._inbox.put(Shutdown())

    def _run(self, job_id: str, job: Job) -> None:
        self._on_message(Started(job_id))
        scale = 1 if self._full_previews else LATENT_SCALE
        shape = (job.height // scale, job.width // scale, 3)
        for step in range(1, job.steps + 1):
            if job_id in self._cancelled:
                self._on_message(Cancelled(job_id))
                return
            self._on_message(Step(job_id, step, job.steps, preview=np.full(shape, step, np.uint8)))
        images = tuple(np.full((job.height, job.width, 3), 128, np.uint8) for _ in range(job.batch))
        recipe = Recipe(prompt=job.prompt, width=job.width, height=job.height, mode=job_mode(job))
        self._on_message(Finished(job_id, images, (recipe,) * job.batch))


def scripted_backend(*, full_previews: bool) -> BackendFactory:
    def make(settings: EngineSettings, on_message: OnMessage, on_exit: OnExit) -> ScriptedBackend:
        return ScriptedBackend(settings, on_message, on_exit, full_previews=full_previews)

    return make
