"""Image to image: the init image is noised by `strength` and denoised towards the prompt."""

from __future__ import annotations

import numpy as np
from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionInpaintPipeline

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


def run(job: Img2Img, ctx: TaskContext) -> list[Output]:
    check_common(job)
    check_size(job.width, job.height)
    check_image(job.init, "The init image")
    check_strength(job.strength)
    init = to_pil(resized(job.init, job.width, job.height))
    embeds = encode(ctx, job)
    outputs = []
    for index, seed in enumerate(batch_seeds(job)):
        if ctx.model.inpainting:
            everything = to_pil(np.full((job.height, job.width), 255, np.uint8))
            latents = denoise(
                ctx, StableDiffusionInpaintPipeline, job, embeds, seed, index,
                image=init, mask_image=everything, strength=job.strength, width=job.width, height=job.height,
            )  # fmt: skip
        else:
            latents = denoise(
                ctx,
                StableDiffusionImg2ImgPipeline,
                job,
                embeds,
                seed,
                index,
                image=init,
                strength=job.strength,
            )
        image = decode(ctx, latents)
        recipe = make_recipe(ctx, job, Mode.IMG2IMG, seed, job.width, job.height, strength=job.strength)
        outputs.append(ctx.deliver(Output(image, recipe)))
    return outputs
