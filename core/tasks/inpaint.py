"""Inpainting: repaint the masked area; everything beyond the mask's feather stays bit-identical.

Works with 9-channel inpainting checkpoints and, through latent blending, with regular ones.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from diffusers import StableDiffusionInpaintPipeline

from sfumato.core.api import Inpaint, JobBase, Mode
from sfumato.core.hires_plan import OFF
from sfumato.core.masks import composite, crop_region_for_mask, feather_mask
from sfumato.core.tasks.common import (
    Output,
    TaskContext,
    batch_seeds,
    check_common,
    check_image,
    check_mask,
    check_size,
    check_strength,
    decode,
    denoise,
    encode,
    make_recipe,
    resized,
    round_to_8,
    to_pil,
)
from sfumato.core.tasks.hires import plan_for, refine


def repaint(
    ctx: TaskContext,
    job: JobBase,
    image: np.ndarray,
    repaint_mask: np.ndarray,
    strength: float,
    seed: int,
    index: int,
    embeds: tuple,
    size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Generate over `image` where `repaint_mask` is set, at `size` (default: the image's own size
    rounded to multiples of 8), and return the raw generation at the image's size."""
    height, width = image.shape[:2]
    gen_width, gen_height = size or (round_to_8(width), round_to_8(height))
    plan = plan_for(ctx, job, gen_width, gen_height)
    if plan is not None:
        # A large area is repainted at the native size first, then enlarged and refined in the mask.
        one_pass = replace(job, hires=OFF)
        first_size = (plan.first_width, plan.first_height)
        first = repaint(ctx, one_pass, image, repaint_mask, strength, seed, index, embeds, first_size)
        drawn = np.where(repaint_mask[..., None] > 0, first, image)
        where = resized(repaint_mask, gen_width, gen_height)
        latents = refine(ctx, job, embeds, seed, index, resized(drawn, gen_width, gen_height), where)
        return resized(decode(ctx, latents), width, height)
    latents = denoise(
        ctx, StableDiffusionInpaintPipeline, job, embeds, seed, index,
        image=to_pil(resized(image, gen_width, gen_height)),
        mask_image=to_pil(resized(repaint_mask, gen_width, gen_height)),
        strength=strength, width=gen_width, height=gen_height,
    )  # fmt: skip
    return resized(decode(ctx, latents), width, height)


def _only_masked(
    ctx: TaskContext, job: Inpaint, repaint_mask: np.ndarray, seed: int, index: int, embeds: tuple
) -> np.ndarray:
    """Generate a crop around the mask at full model resolution and paste it back."""
    height, width = job.init.shape[:2]
    x0, y0, x1, y1 = crop_region_for_mask(
        job.mask, job.padding + job.mask_blur, job.width / job.height, (width, height)
    )
    crop = job.init[y0:y1, x0:x1]
    generated = repaint(
        ctx,
        job,
        crop,
        repaint_mask[y0:y1, x0:x1],
        job.strength,
        seed,
        index,
        embeds,
        size=(job.width, job.height),
    )
    pasted = job.init.copy()
    pasted[y0:y1, x0:x1] = generated
    return pasted


def run(job: Inpaint, ctx: TaskContext) -> list[Output]:
    check_common(job)
    check_image(job.init, "The image to inpaint")
    check_mask(job.mask, job.init)
    check_strength(job.strength)
    if job.only_masked:
        check_size(job.width, job.height, "The generation size")
    alpha = feather_mask(job.mask, job.mask_blur)
    repaint_mask = np.where(alpha > 0, 255, 0).astype(np.uint8)
    height, width = job.init.shape[:2]
    embeds = encode(ctx, job)
    outputs = []
    for index, seed in enumerate(batch_seeds(job)):
        if job.only_masked:
            generated = _only_masked(ctx, job, repaint_mask, seed, index, embeds)
        else:
            generated = repaint(ctx, job, job.init, repaint_mask, job.strength, seed, index, embeds)
        image = composite(job.init, generated, alpha)
        recipe = make_recipe(
            ctx, job, Mode.INPAINT, seed, width, height, strength=job.strength, mask_blur=job.mask_blur
        )
        outputs.append(ctx.deliver(Output(image, recipe)))
    return outputs
