"""Pictures larger than the model's native size: drawn at the native size, then a "hires fix".

A model asked for a frame far larger than it was trained on repeats its subject across it. So the
picture is first drawn at about the native pixel count (keeping the frame's aspect), upscaled to the
frame, and redrawn at a moderate strength with the same prompt: the composition comes from the
first pass, the detail from the second, which is tiled (see `tiled_denoise`) when larger than the
model's window. A factor above 4 is climbed in passes of at most 4 × each, and a pass beyond 2 ×
redraws less than the hires strength: enlarged 4 ×, an outline drifts into
another shape (a circle into a lumpy square) when redrawn as strongly as a 2 × pass.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch
from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionInpaintPipeline

from sfumato.core.api import JobBase
from sfumato.core.hires_plan import HiresPlan, plan_hires
from sfumato.core.tasks.common import TaskContext, decode, denoise, to_pil
from sfumato.core.tasks.native import native_size, vae_tile
from sfumato.core.tasks.tiled_vae import encode_tiled, needs_tiles
from sfumato.core.upscalers.enlarge import enlarge


def plan_for(ctx: TaskContext, job: JobBase, width: int, height: int) -> HiresPlan | None:
    return plan_hires(job.hires, width, height, native_size(ctx.model))


def upscale(ctx: TaskContext, image: np.ndarray, width: int, height: int, upscaler: str) -> np.ndarray:
    """`image` enlarged to `width` × `height` by the named upscaler model, or Lanczos."""
    return enlarge(image, (width, height), upscaler, ctx.device)


def enlarge_and_refine(
    ctx: TaskContext,
    job: JobBase,
    embeds: tuple[torch.Tensor, torch.Tensor],
    seed: int,
    index: int,
    small: np.ndarray,
    plan: HiresPlan,
) -> torch.Tensor:
    """`small` (the first pass) brought to the job's frame by the plan's hires passes, each enlarging
    the one before by at most `STAGE_FACTOR` and redrawing it at the plan's pass strength. Returns
    the last pass's latents."""
    *between, (width, height) = plan.stage_sizes(job.width, job.height)
    job = replace(job, hires_strength=plan.pass_strength(job.hires_strength))
    image = small
    for stage_width, stage_height in between:
        drawn = upscale(ctx, image, stage_width, stage_height, job.upscaler)
        image = decode(ctx, refine(ctx, job, embeds, seed, index, drawn))
    return refine(ctx, job, embeds, seed, index, upscale(ctx, image, width, height, job.upscaler))


def encode_image(ctx: TaskContext, image: np.ndarray) -> torch.Tensor:
    """The latents of an RGB image, encoded in overlapping tiles when it is large."""
    vae = ctx.model.components["vae"]
    device, dtype = ctx.device.device, next(vae.parameters()).dtype
    pixels = torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float() / 127.5 - 1

    def encode_one(part: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            latents: torch.Tensor = vae.encode(part.to(device, dtype)).latent_dist.mode()
            return latents

    tile, scale = vae_tile(ctx.model), ctx.model.vae_scale_factor
    if needs_tiles(image.shape[0] // scale, image.shape[1] // scale, tile):
        latents = encode_tiled(encode_one, pixels, tile, scale, int(vae.config.latent_channels))
    else:
        latents = encode_one(pixels)
    return (latents * vae.config.scaling_factor).to(device, dtype)


def refine(
    ctx: TaskContext,
    job: JobBase,
    embeds: tuple[torch.Tensor, torch.Tensor],
    seed: int,
    index: int,
    image: np.ndarray,
    mask: np.ndarray | None = None,
) -> torch.Tensor:
    """The hires pass: `image` (already at the final size) redrawn at the job's hires strength,
    only where `mask` allows when one is given. Returns latents."""
    second = replace(job, steps=job.hires_steps or job.steps)
    height, width = image.shape[:2]
    if mask is not None or ctx.model.inpainting:
        where = mask if mask is not None else np.full((height, width), 255, np.uint8)
        return denoise(
            ctx, StableDiffusionInpaintPipeline, second, embeds, seed, index,
            mask_image=to_pil(where), strength=job.hires_strength, width=width, height=height,
            **_inpaint_start(ctx, image, where),
        )  # fmt: skip
    return denoise(
        ctx, StableDiffusionImg2ImgPipeline, second, embeds, seed, index,
        image=encode_image(ctx, image), strength=job.hires_strength,
    )  # fmt: skip


# The inpainting pipeline blanks the masked part of the picture to mid-grey (0 on its -1..1 scale)
# where the mask is at least half set, and gives a 9-channel UNet that masked picture's latents.
_BLANK, _MASKED_FROM = 127.5, 128


def _inpaint_start(ctx: TaskContext, image: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    """What the inpainting pipeline starts from: a large picture and its masked copy as latents
    encoded in tiles (the pipeline would encode each whole), otherwise the picture itself."""
    scale = ctx.model.vae_scale_factor
    if not needs_tiles(image.shape[0] // scale, image.shape[1] // scale, vae_tile(ctx.model)):
        return {"image": to_pil(image)}
    masked = np.where(mask[..., None] >= _MASKED_FROM, _BLANK, image.astype(np.float32))
    return {"image": encode_image(ctx, image), "masked_image_latents": encode_image(ctx, masked)}
