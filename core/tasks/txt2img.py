"""Text to image."""

from __future__ import annotations

import numpy as np
import torch
from diffusers import StableDiffusionInpaintPipeline, StableDiffusionPipeline

from sfumato.core.api import JobBase, Mode, Txt2Img
from sfumato.core.tasks.common import (
    Output,
    TaskContext,
    batch_seeds,
    check_common,
    check_size,
    decode,
    denoise,
    encode,
    make_recipe,
    to_pil,
)


def run(job: Txt2Img, ctx: TaskContext) -> list[Output]:
    check_common(job)
    check_size(job.width, job.height)
    embeds = encode(ctx, job)
    outputs = []
    for index, seed in enumerate(batch_seeds(job)):
        image = decode(ctx, draw(ctx, job, embeds, seed, index))
        recipe = make_recipe(ctx, job, Mode.TXT2IMG, seed, job.width, job.height)
        outputs.append(ctx.deliver(Output(image, recipe)))
    return outputs


def draw(
    ctx: TaskContext,
    job: JobBase,
    embeds: tuple[torch.Tensor, torch.Tensor],
    seed: int,
    index: int,
    *,
    images: int | None = None,
    start: torch.Tensor | None = None,
) -> torch.Tensor:
    """The latents of an image drawn from noise and text alone, at the job's size (see `denoise`
    for `images` and `start`)."""
    if ctx.model.inpainting:
        # An inpainting checkpoint draws from scratch when everything is masked.
        blank = np.full((job.height, job.width, 3), 127, np.uint8)
        everything = np.full((job.height, job.width), 255, np.uint8)
        return denoise(
            ctx, StableDiffusionInpaintPipeline, job, embeds, seed, index, images=images, start=start,
            image=to_pil(blank), mask_image=to_pil(everything), strength=1.0,
            width=job.width, height=job.height,
        )  # fmt: skip
    return denoise(
        ctx, StableDiffusionPipeline, job, embeds, seed, index, images=images, start=start,
        width=job.width, height=job.height,
    )  # fmt: skip
