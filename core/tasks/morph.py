"""Prompt morph: frames that pass from prompt to prompt, each drawn by text-to-image's own denoising.

Frame by frame, the text embeddings are interpolated linearly and the starting noise spherically
(a straight blend of two noises would be fainter than noise in the middle and give washed-out
frames). The noise a sampler adds along the way comes from the first prompt's seed in every frame,
so ancestral samplers do not flicker, and the first frame is exactly the text-to-image result of the
first prompt with its seed.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from sfumato.core.api import Mode
from sfumato.core.morph_api import Morph, check_morph, morph_frame_count, morph_prompts
from sfumato.core.prompts import encode_prompts
from sfumato.core.tasks.common import (
    Output,
    TaskContext,
    batch_seeds,
    check_common,
    check_size,
    decode,
    make_recipe,
)
from sfumato.core.tasks.txt2img import draw

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
    noises = {seed: _noise(ctx, job, seed, dtype) for seed in set(seeds)}
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
        latents = draw(ctx, job, frame_embeds, seeds[0], frame, images=total, start=noise)
        recipe = make_recipe(ctx, job, Mode.TXT2IMG, seeds[index], job.width, job.height)
        extras = recipe.extras | {"Morph frame": f"{frame + 1}/{total}"}
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
        return encode_prompts(
            c["tokenizer"], encoder, prompt, negative_prompt, device, dtype, clip_skip, ctx.embeddings
        )

    embeds = [encoded(prompt, negative) for prompt in prompts]
    longest = max(positive.shape[1] for positive, _negative in embeds)
    empty = encoded("", "")[0]
    chunk = empty.shape[1]

    def padded(tensor: torch.Tensor) -> torch.Tensor:
        missing = (longest - tensor.shape[1]) // chunk
        return torch.cat([tensor, *[empty] * missing], dim=1) if missing else tensor

    return [(padded(positive), padded(negative_embeds)) for positive, negative_embeds in embeds]


def _noise(ctx: TaskContext, job: Morph, seed: int, dtype: torch.dtype) -> torch.Tensor:
    """The starting noise text-to-image draws for `seed`."""
    channels = int(ctx.model.components["vae"].config.latent_channels)
    factor = ctx.model.vae_scale_factor
    shape = (1, channels, job.height // factor, job.width // factor)
    generator = torch.Generator("cpu").manual_seed(seed)
    return torch.randn(shape, generator=generator, device="cpu", dtype=dtype)
