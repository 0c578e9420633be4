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
    MemoryTierUsed,
    Optimising,
    OutOfMemory,
    SfumatoError,
    Started,
    Step,
    Upscale,
)
from sfumato.core.devices import DeviceChoice, is_out_of_memory, release_memory
from sfumato.core.memory_tiers import (
    AUTO,
    JobShape,
    TierChoice,
    check_memory_choice,
    images_per_pass,
    lower,
    retry_reason,
    what_would_fit,
)
from sfumato.core.models.acceleration import FAST
from sfumato.core.models.addon_library import checked_prompt_addons
from sfumato.core.models.loader import ModelCache
from sfumato.core.models.memory_setup import apply_tier, device_memory, device_word, job_tier, model_sizes
from sfumato.core.models.vae_precision import vae_dtype
from sfumato.core.tasks import run_task, upscale
from sfumato.core.tasks.common import JobCancelled, Output, StepProgress, TaskContext, with_seed_fixed

log = logging.getLogger(__name__)

Emit = Callable[[Event], None]

MOST_TOGETHER = 8
OPTIMISING_MESSAGE = "Optimising the model for this GPU and frame size… first time only"
OUT_OF_MEMORY_MESSAGE = (
    "The GPU ran out of memory. Try a smaller size or batch, close other programs using the GPU, "
    "or switch to the CPU in the settings."
)


class Worker:
    def __init__(
        self, device: DeviceChoice, preview_every: int = 1, memory: str = AUTO, speed: str = "default"
    ) -> None:
        self.device = device
        self.preview_every = preview_every
        self.memory = check_memory_choice(memory)
        # The most images drawn as one tensor. A CPU gains next to nothing from it, and there each image
        # is better delivered the moment it is done.
        self.together = 1 if device.device.type == "cpu" else MOST_TOGETHER
        self.models = ModelCache(device, speed)
        self.speed = self.models.speed
        self._compiled: set[tuple[str, int, int, int]] = set()  # what the fast profile compiled

    def run(self, job_id: str, job: Job, emit: Emit, is_cancelled: Callable[[], bool]) -> None:
        """Run `job`, emitting Started, LoadingModel, Step, an ImageReady per image as soon as it is done,
        and exactly one terminal event."""
        emit(Started(job_id))
        try:
            if is_cancelled():
                raise JobCancelled

            def on_step(at: StepProgress) -> None:
                emit(Step(job_id, at.step, at.total, at.image, at.images, at.preview))

            delivered = 0

            def announce(index: int, output: Output) -> None:
                # A retry makes the images already delivered again, the same: they are not sent twice.
                nonlocal delivered
                if index >= delivered:
                    delivered = index + 1
                    emit(ImageReady(job_id, index, output.image, output.recipe))

            if isinstance(job, Upscale) and not job.strength:  # needs no diffusion model
                outputs = [output := upscale.enlarged(job, self.device, on_step, is_cancelled)]
                announce(0, output)
            else:
                checked_prompt_addons(job.model, job.prompt, job.negative)  # refused before any load
                if not self.models.is_loaded(job.model):
                    emit(LoadingModel(job_id, job.model))
                model = self.models.get(job.model)
                ctx = TaskContext(model, self.device, on_step, is_cancelled, self.preview_every)
                outputs = self._run_stepping_down(job_id, with_seed_fixed(job), ctx, emit, announce)
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

    def _run_stepping_down(
        self, job_id: str, job: Job, ctx: TaskContext, emit: Emit, announce: Callable[[int, Output], None]
    ) -> list[Output]:
        """Run `job` at the tier memory allows; when it runs out of memory, free what it held and start
        it over one tier down, failing only when the lowest tier does, with what would fit instead."""
        device = self.device.device
        sizes = model_sizes(ctx.model.components)
        vae_bytes = vae_dtype(ctx.model.components["vae"]).itemsize
        shape = JobShape(job.width, job.height, job.batch, self.device.dtype.itemsize, vae_bytes)
        choice = job_tier(device, sizes, shape, self.memory)
        retry = False
        while True:
            apply_tier(ctx.model, choice.tier, device)
            ctx.images_per_pass = min(choice.images_per_pass, self.together)
            made = itertools.count()
            ctx.on_output = lambda output, made=made: announce(next(made), output)  # type: ignore[misc]
            emit(MemoryTierUsed(job_id, choice.tier.value, choice.reason, retry))
            compiled = (ctx.model.hash, job.width, job.height, ctx.images_per_pass)
            if self.speed == FAST and compiled not in self._compiled:
                emit(Optimising(job_id, OPTIMISING_MESSAGE))
            try:
                outputs = run_task(job, ctx)
                self._compiled.add(compiled)
                return outputs
            except Exception as error:
                if not is_out_of_memory(error):
                    raise
            self._clean_up()
            below = lower(choice.tier)
            if below is None:
                raise OutOfMemory(what_would_fit(device_memory(device)[1], sizes, shape, device_word(device)))
            log.warning("job %s ran out of memory at the %s tier; retrying at %s", job_id, choice.tier, below)
            reason = retry_reason(below, shape, device_word(device))
            choice, retry = TierChoice(below, reason, images_per_pass(below, 0, sizes, shape)), True

    def _clean_up(self) -> None:
        gc.collect()
        release_memory(self.device.device)
