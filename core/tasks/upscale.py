"""Upscale: enlarge the init image (upscaler model or Lanczos), then optionally redraw it as image to
image at the new size, which restores the detail an enlargement cannot invent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sfumato.core.api import BadInput, Img2Img, Mode, Recipe, Upscale, request_values
from sfumato.core.devices import DeviceChoice
from sfumato.core.limits import MAX_SIDE
from sfumato.core.tasks import img2img
from sfumato.core.tasks.common import (
    JobCancelled,
    Output,
    StepProgress,
    TaskContext,
    check_image,
    check_strength,
)
from sfumato.core.upscalers.enlarge import enlarge, upscaler_label

# The keys AUTOMATIC1111's Extras tab writes for an upscale.
UPSCALE_BY_KEY = "Postprocess upscale by"
UPSCALER_KEY = "Postprocess upscaler"


def check_target(job: Upscale) -> None:
    height, width = job.init.shape[:2]
    if not (width <= job.width <= MAX_SIDE and height <= job.height <= MAX_SIDE):
        raise BadInput(
            f"An upscale goes from {width}×{height} to a larger size of at most {MAX_SIDE} pixels a side; "
            f"got {job.width}×{job.height}."
        )


def upscale_keys(job: Upscale) -> dict[str, str]:
    factor = job.width / job.init.shape[1]
    return {UPSCALE_BY_KEY: f"{factor:g}", UPSCALER_KEY: upscaler_label(job.upscaler)}


def enlarged(
    job: Upscale,
    device: DeviceChoice,
    on_step: Callable[[StepProgress], None],
    is_cancelled: Callable[[], bool],
) -> Output:
    """The init image enlarged to the job's size, not redrawn; its recipe has the upscale keys.
    Each finished tile counts as a step; a cancel stops it between tiles."""
    check_image(job.init, "The image to upscale")
    check_target(job)

    def on_tile(done: int, total: int) -> None:
        if is_cancelled():
            raise JobCancelled
        on_step(StepProgress(done, total, 0, 1))

    image = enlarge(
        job.init,
        (job.width, job.height),
        job.upscaler,
        device,
        on_tile,
    )
    keys = upscale_keys(job)
    if job.recipe is None:
        return Output(image, Recipe(**request_values(job), mode=Mode.IMG2IMG, extras=keys))
    # As AUTOMATIC1111's Extras do: the recipe still says how the picture was made (its size included,
    # so the recipe re-makes it), and the postprocess keys say how it was enlarged.
    return Output(image, replace(job.recipe, extras=job.recipe.extras | keys))


def run(job: Upscale, ctx: TaskContext) -> list[Output]:
    """Enlarge, then redraw with the job's model at `strength`."""
    check_strength(job.strength)
    big = enlarged(job, ctx.device, lambda at: None, ctx.is_cancelled)
    redraw = Img2Img(
        **request_values(job) | {"hires": "off"},  # already enlarged: redrawn at full size, in windows
        model=job.model, batch=job.batch, init=big.image, strength=job.strength,
    )  # fmt: skip

    def with_keys(output: Output) -> Output:
        """The redraw's recipe, keeping what the picture's own recipe had beyond it (e.g. its LoRAs)."""
        return Output(output.image, replace(output.recipe, extras=big.recipe.extras | output.recipe.extras))

    marked = replace(ctx, on_output=lambda output: ctx.on_output(with_keys(output)))
    return [with_keys(output) for output in img2img.run(redraw, marked)]
