"""Prompt morph: frames that pass from prompt to prompt, generated like text-to-image.

Frame by frame, the text embeddings are interpolated linearly and the starting noise spherically
(a straight blend of two noises would be fainter than noise in the middle and give washed-out
frames). The noise a sampler adds along the way comes from the first prompt's seed in every frame,
so ancestral samplers do not flicker, and the first frame is exactly the text-to-image result of the
first prompt with its seed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch
from diffusers import StableDiffusionInpaintPipeline, StableDiffusionPipeline

from sfumato.core.api import Mode
from sfumato.core.morph_api import Morph, check_morph, morph_frame_count, morph_prompts
from sfumato.core.prompts import encode_prompts
from sfumato.core.schedulers import make_scheduler
from sfumato.core.tasks.common import (
    JobCancelled,
    Output,
    TaskContext,
    batch_seeds,
    check_common,
    check_size,
    decode,
    make_recipe,
    to_pil,
)

Embeds = tuple[torch.Tensor, torch.Tensor]


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation from `a` (t = 0) to `b` (t = 1), computed in float32."""
    if t <= 0:
        return a
    if t >= 1:
        return b
    a32, b32 = a.float(), b.float()
    cosine = torch.sum(a32 * b32) / (a32.norm() * b32.norm())
    angle = torch.arccos(cosine.clamp(-1.0, 1.0))
    if float(angle) < 1e-4:  # (nearly) the same direction: a straight blend is as good and stable
        return (a32 + (b32 - a32) * t).to(a.dtype)
    sine = torch.sin(angle)
    mixed = (torch.sin((1 - t) * angle) / sine) * a32 + (torch.sin(t * angle) / sine) * b32
    return mixed.to(a.dtype)


def lerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    if t <= 0:
        return a
    if t >= 1:
        return b
    return (a.float() + (b.float() - a.float()) * t).to(a.dtype)


def frame_plan(prompts: int, frames_per_transition: int) -> list[tuple[int, float]]:
    """(prompt index, position towards the next prompt) of every frame."""
    plan = [
        (index, step / frames_per_transition)
        for index in range(prompts - 1)
        for step in range(frames_per_transition)
    ]
    return [*plan, (prompts - 1, 0.0)]


def run(job: Morph, ctx: TaskContext) -> list[Output]:
    check_common(job)
    check_size(job.width, job.height)
    check_morph(job)
    prompts = morph_prompts(job.prompt)
    seeds = list(job.seeds) or batch_seeds(job) * len(prompts)
    embeds = _encode_all(ctx, prompts, job.negative, job.clip_skip)
    dtype = embeds[0][0].dtype
    noises = {seed: _noise(ctx, job, seed, dtype)[0] for seed in set(seeds)}
    plan = frame_plan(len(prompts), job.frames)
    total = morph_frame_count(job)
    outputs = []
    for frame, (index, position) in enumerate(plan):
        following = min(index + 1, len(prompts) - 1)
        noise = slerp(noises[seeds[index]], noises[seeds[following]], position)
        frame_embeds = (
            lerp(embeds[index][0], embeds[following][0], position),
            lerp(embeds[index][1], embeds[following][1], position),
        )
        _noise_unused, generator = _noise(ctx, job, seeds[0], dtype)
        latents = _denoise(ctx, job, frame_embeds, noise, generator, frame, total)
        recipe = make_recipe(ctx, job, Mode.TXT2IMG, seeds[index], job.width, job.height)
        extras = {"Morph frame": f"{frame + 1}/{total}"}
        if position > 0:
            extras.update({"Morph to": prompts[following], "Morph position": f"{position:.4g}"})
            extras["Morph seed to"] = str(seeds[following])
        recipe = replace(recipe, prompt=prompts[index], extras=extras)
        outputs.append(ctx.deliver(Output(decode(ctx, latents), recipe)))
    return outputs


def _encode_all(ctx: TaskContext, prompts: list[str], negative: str, clip_skip: int) -> list[Embeds]:
    """Every prompt's embeddings, padded with empty chunks to one length so they can be blended."""
    c = ctx.model.components
    device, dtype = ctx.device.device, ctx.device.dtype

    def encoded(prompt: str, negative_prompt: str) -> Embeds:
        encoder = c["text_encoder"]
        return encode_prompts(c["tokenizer"], encoder, prompt, negative_prompt, device, dtype, clip_skip)

    embeds = [encoded(prompt, negative) for prompt in prompts]
    longest = max(positive.shape[1] for positive, _negative in embeds)
    empty = encoded("", "")[0]
    chunk = empty.shape[1]

    def padded(tensor: torch.Tensor) -> torch.Tensor:
        missing = (longest - tensor.shape[1]) // chunk
        return torch.cat([tensor, *[empty] * missing], dim=1) if missing else tensor

    return [(padded(positive), padded(negative_embeds)) for positive, negative_embeds in embeds]


def _noise(
    ctx: TaskContext, job: Morph, seed: int, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Generator]:
    """The starting noise text-to-image draws for `seed`, and the generator just after that draw."""
    channels = int(ctx.model.components["vae"].config.latent_channels)
    factor = ctx.model.vae_scale_factor
    shape = (1, channels, job.height // factor, job.width // factor)
    generator = torch.Generator("cpu").manual_seed(seed)
    return torch.randn(shape, generator=generator, device="cpu", dtype=dtype), generator


def _denoise(
    ctx: TaskContext,
    job: Morph,
    embeds: Embeds,
    noise: torch.Tensor,
    generator: torch.Generator,
    frame: int,
    frames: int,
) -> torch.Tensor:
    ctx.check_cancelled()
    inputs: dict[str, Any] = {"width": job.width, "height": job.height}
    if ctx.model.inpainting:
        # An inpainting checkpoint draws from scratch when everything is masked.
        pipe = ctx.model.pipeline(StableDiffusionInpaintPipeline)
        inputs.update(
            image=to_pil(np.full((job.height, job.width, 3), 127, np.uint8)),
            mask_image=to_pil(np.full((job.height, job.width), 255, np.uint8)),
            strength=1.0,
        )
    else:
        pipe = ctx.model.pipeline(StableDiffusionPipeline)
    pipe.scheduler = make_scheduler(job.sampler, ctx.model.components["scheduler"].config)

    def on_step_end(pipeline: Any, index: int, _timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        if ctx.is_cancelled():
            raise JobCancelled
        total = int(getattr(pipeline, "_num_timesteps", 0) or job.steps)
        step = index + 1
        preview = None
        if ctx.preview_every > 0 and (step % ctx.preview_every == 0 or step == total):
            preview = ctx.model.previewer(tensors["latents"])
        ctx.on_step(step, total, frame, frames, preview)
        return {}

    with torch.inference_mode():
        result = pipe(
            prompt_embeds=embeds[0],
            negative_prompt_embeds=embeds[1],
            num_inference_steps=job.steps,
            guidance_scale=job.cfg,
            generator=generator,
            latents=noise,
            output_type="latent",
            callback_on_step_end=on_step_end,
            **inputs,
        )
    latents: torch.Tensor = result.images
    return latents
