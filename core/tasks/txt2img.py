"""Text to image."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from diffusers import StableDiffusionInpaintPipeline, StableDiffusionPipeline

from sfumato.core.api import JobBase, Mode, Txt2Img
from sfumato.core.hires_plan import HiresPlan
from sfumato.core.schedulers import batches_like_singles
from sfumato.core.tasks.common import (
    Output,
    TaskContext,
    batch_seeds,
    check_common,
    check_size,
    decode,
    decode_each,
    denoise,
    encode,
    make_recipe,
    to_pil,
)
from sfumato.core.tasks.hires import enlarge_and_refine, plan_for


def run(job: Txt2Img, ctx: TaskContext) -> list[Output]:
    check_common(job)
    check_size(job.width, job.height)
    embeds = encode(ctx, job)
    plan = plan_for(ctx, job, job.width, job.height)
    if plan is not None:
        return [
            draw_large(ctx, job, embeds, seed, index, plan) for index, seed in enumerate(batch_seeds(job))
        ]
    seeds = batch_seeds(job)
    together = ctx.images_per_pass if batches_like_singles(job.sampler) else 1
    outputs = []
    for first in range(0, len(seeds), together):
        group = seeds[first : first + together]
        # Progress counts the images drawn together as one.
        passes = -(-len(seeds) // together)
        latents = draw(
            ctx, job, embeds, group if len(group) > 1 else group[0], first // together, images=passes
        )
        for seed, image in zip(group, decode_each(ctx, latents), strict=True):
            recipe = make_recipe(ctx, job, Mode.TXT2IMG, seed, job.width, job.height)
            outputs.append(ctx.deliver(Output(image, recipe)))
    return outputs


def draw_large(
    ctx: TaskContext,
    job: Txt2Img,
    embeds: tuple[torch.Tensor, torch.Tensor],
    seed: int,
    index: int,
    plan: HiresPlan,
) -> Output:
    """A picture drawn at the plan's first-pass size, upscaled to the job's and redrawn."""
    first = replace(job, width=plan.first_width, height=plan.first_height)
    small = decode(ctx, draw(ctx, first, embeds, seed, index))
    latents = enlarge_and_refine(ctx, job, embeds, seed, index, small, plan)
    recipe = make_recipe(ctx, job, Mode.TXT2IMG, seed, job.width, job.height)
    return ctx.deliver(Output(decode(ctx, latents), replace(recipe, hires=plan.recorded)))


def draw(
    ctx: TaskContext,
    job: JobBase,
    embeds: tuple[torch.Tensor, torch.Tensor],
    seed: int | list[int],
    index: int,
    *,
    images: int | None = None,
    start: torch.Tensor | None = None,
) -> torch.Tensor:
    """The latents of an image (or of one per seed in a list) drawn from noise and text alone, at the
    job's size (see `denoise` for `images` and `start`)."""
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
