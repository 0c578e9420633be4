"""Runs jobs one at a time and reports what happens as events. Used in the engine process, or in a
thread of the caller's process for the in-process engine."""

from __future__ import annotations

import gc
import itertools
import logging
from collections.abc import Callable

from sfumato.core.api import (
    Cancelled,
    ErrorKind,
    Event,
    Failed,
    Finished,
    ImageReady,
    Job,
    LoadingModel,
    SfumatoError,
    Started,
    Step,
)
from sfumato.core.devices import DeviceChoice, is_out_of_memory, release_memory
from sfumato.core.models.addon_library import checked_prompt_addons
from sfumato.core.models.loader import ModelCache
from sfumato.core.tasks import run_task
from sfumato.core.tasks.common import JobCancelled, Output, StepProgress, TaskContext

log = logging.getLogger(__name__)

Emit = Callable[[Event], None]

OUT_OF_MEMORY_MESSAGE = (
    "The GPU ran out of memory. Try a smaller size or batch, close other programs using the GPU, "
    "or switch to the CPU in the settings."
)


class Worker:
    def __init__(self, device: DeviceChoice, preview_every: int = 1) -> None:
        self.device = device
        self.preview_every = preview_every
        self.models = ModelCache(device)

    def run(self, job_id: str, job: Job, emit: Emit, is_cancelled: Callable[[], bool]) -> None:
        """Run `job`, emitting Started, LoadingModel, Step, an ImageReady per image as soon as it is done,
        and exactly one terminal event."""
        emit(Started(job_id))
        try:
            if is_cancelled():
                raise JobCancelled
            checked_prompt_addons(job.model, job.prompt, job.negative)  # refused before any load
            if not self.models.is_loaded(job.model):
                emit(LoadingModel(job_id, job.model))
            model = self.models.get(job.model)

            def on_step(at: StepProgress) -> None:
                emit(Step(job_id, at.step, at.total, at.image, at.images, at.preview))

            indexes = itertools.count()

            def on_output(output: Output) -> None:
                emit(ImageReady(job_id, next(indexes), output.image, output.recipe))

            ctx = TaskContext(model, self.device, on_step, is_cancelled, self.preview_every, on_output)
            outputs = run_task(job, ctx)
            emit(Finished(job_id, tuple(o.image for o in outputs), tuple(o.recipe for o in outputs)))
        except JobCancelled:
            self._clean_up()
            emit(Cancelled(job_id))
        except SfumatoError as error:
            emit(Failed(job_id, error.kind, error.message))
        except Exception as error:
            if is_out_of_memory(error):
                self._clean_up()
                emit(Failed(job_id, ErrorKind.OUT_OF_MEMORY, OUT_OF_MEMORY_MESSAGE))
            else:
                log.exception("job %s failed", job_id)
                emit(Failed(job_id, ErrorKind.INTERNAL, f"Generation failed unexpectedly: {error}"))

    def _clean_up(self) -> None:
        gc.collect()
        release_memory(self.device.device)
