"""Image to image: the init image is noised by `strength` and denoised towards the prompt."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionInpaintPipeline
from PIL import Image

from sfumato.core.api import Img2Img, Mode
from sfumato.core.tasks.common import (
    Output,
    TaskContext,
    batch_seeds,
    check_common,
    check_image,
    check_size,
    check_strength,
    decode,
    denoise,
    encode,
    make_recipe,
    resized,
    to_pil,
)
from sfumato.core.tasks.hires import enlarge_and_refine, plan_for


def run(job: Img2Img, ctx: TaskContext) -> list[Output]:
    check_common(job)
    check_size(job.width, job.height)
    check_image(job.init, "The init image")
    check_strength(job.strength)
    plan = plan_for(ctx, job, job.width, job.height)
    # A frame far larger than the model is redrawn at the native size, then enlarged and refined.
    first = job if plan is None else replace(job, width=plan.first_width, height=plan.first_height)
    init = to_pil(resized(job.init, first.width, first.height))
    embeds = encode(ctx, job)
    outputs = []
    for index, seed in enumerate(batch_seeds(job)):
        latents = _redraw(ctx, first, init, embeds, seed, index)
        if plan is not None:
            latents = enlarge_and_refine(ctx, job, embeds, seed, index, decode(ctx, latents), plan)
        image = decode(ctx, latents)
        recipe = make_recipe(ctx, job, Mode.IMG2IMG, seed, job.width, job.height, strength=job.strength)
        if plan is not None:
            recipe = replace(recipe, hires=plan.recorded)
        outputs.append(ctx.deliver(Output(image, recipe)))
    return outputs


def _redraw(
    ctx: TaskContext,
    job: Img2Img,
    init: Image.Image,
    embeds: tuple[torch.Tensor, torch.Tensor],
    seed: int,
    index: int,
) -> torch.Tensor:
    """The latents of `init` (at the job's size) noised by the job's strength and redrawn."""
    if ctx.model.inpainting:
        everything = to_pil(np.full((job.height, job.width), 255, np.uint8))
        return denoise(
            ctx, StableDiffusionInpaintPipeline, job, embeds, seed, index,
            image=init, mask_image=everything, strength=job.strength, width=job.width, height=job.height,
        )  # fmt: skip
    return denoise(
        ctx, StableDiffusionImg2ImgPipeline, job, embeds, seed, index, image=init, strength=job.strength
    )
