"""One module per generation mode; `run_task` picks the right one for a job."""

from __future__ import annotations

from sfumato.core.api import Img2Img, Inpaint, Job, Morph, Outpaint, Txt2Img, Upscale
from sfumato.core.models.addon_library import prompt_addons
from sfumato.core.models.addons import applied_addons
from sfumato.core.tasks import img2img, inpaint, morph, outpaint, txt2img, upscale
from sfumato.core.tasks.common import Output, TaskContext


def run_task(job: Job, ctx: TaskContext) -> list[Output]:
    """Run `job` with the LoRAs and embeddings its prompts name applied, and taken off afterwards."""
    ctx.addons = prompt_addons(job.prompt, job.negative)
    with applied_addons(ctx.model, ctx.addons) as embeddings:
        ctx.embeddings = embeddings
        try:
            return _run(job, ctx)
        finally:
            ctx.embeddings = {}


def _run(job: Job, ctx: TaskContext) -> list[Output]:
    match job:
        case Txt2Img():
            return txt2img.run(job, ctx)
        case Img2Img():
            return img2img.run(job, ctx)
        case Inpaint():
            return inpaint.run(job, ctx)
        case Outpaint():
            return outpaint.run(job, ctx)
        case Morph():
            return morph.run(job, ctx)
        case Upscale():
            return upscale.run(job, ctx)
    raise TypeError(f"not a job: {job!r}")
