"""What every generation task shares: validation, seeds, denoising with progress, decoding, recipes."""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import torch
from PIL import Image

from sfumato.core.api import BadInput, JobBase, Mode, Recipe, check_request, request_values
from sfumato.core.devices import DeviceChoice
from sfumato.core.hires_plan import check_hires
from sfumato.core.limits import (
    MAX_SIDE,
    MIN_SIDE,
    SEED_RANGE,
    check_batch,
    check_cfg,
    check_mask_blur,
    check_seed,
    check_steps,
)
from sfumato.core.limits import check_size as check_size
from sfumato.core.models.addon_library import PromptAddons
from sfumato.core.models.loader import LoadedModel
from sfumato.core.models.memory_setup import text_encoder_on_device
from sfumato.core.models.vae_precision import keep_in_float32, vae_dtype
from sfumato.core.previews import PreviewCopies
from sfumato.core.prompts import encode_prompts
from sfumato.core.schedulers import find_sampler, make_scheduler
from sfumato.core.tasks.native import native_window, vae_tile
from sfumato.core.tasks.tiled_denoise import Tiling, tiled_unet, windows_at_once
from sfumato.core.tasks.tiled_vae import decode_tiled, needs_tiles

log = logging.getLogger(__name__)

JobT = TypeVar("JobT", bound=JobBase)


@dataclass(frozen=True)
class StepProgress:
    """Step `step` (1-based) of `total`, the steps asked for whatever the sampler, of image `image`
    (0-based) of `images`, with a preview of the latents when one is due."""

    step: int
    total: int
    image: int
    images: int
    preview: np.ndarray | None = None


StepCallback = Callable[[StepProgress], None]


class JobCancelled(Exception):
    """Raised from inside the denoising loop to stop at once, skipping the VAE decode."""


def _hand_on_nothing(_output: Output) -> None:
    pass


@dataclass
class TaskContext:
    model: LoadedModel
    device: DeviceChoice
    on_step: StepCallback
    is_cancelled: Callable[[], bool]
    preview_every: int = 1
    on_output: Callable[[Output], None] = _hand_on_nothing
    addons: PromptAddons = field(default_factory=PromptAddons)  # the LoRAs and embeddings in use
    embeddings: dict[str, torch.Tensor] = field(default_factory=dict)  # their vectors, by name
    images_per_pass: int = 1  # a batch's images that go through the UNet together (see memory_tiers)

    def check_cancelled(self) -> None:
        if self.is_cancelled():
            raise JobCancelled

    def deliver(self, output: Output) -> Output:
        """Hand a finished image on at once, so it is kept even if a later image of the batch fails
        or the job is cancelled; returns `output` for the task's own list."""
        self.on_output(output)
        return output


@dataclass(frozen=True)
class Output:
    image: np.ndarray
    recipe: Recipe


# ---- validation -----------------------------------------------------------------------------------


def check_common(job: JobBase) -> None:
    check_steps(job.steps)
    check_cfg(job.cfg)
    check_batch(job.batch)
    check_seed(job.seed)
    mask_blur = getattr(job, "mask_blur", None)  # inpainting and outpainting jobs
    if mask_blur is not None:
        check_mask_blur(mask_blur)
    find_sampler(job.sampler)
    check_request(job)
    check_hires(job)


def check_strength(strength: float) -> None:
    if not 0 < strength <= 1:
        raise BadInput(f"Strength must be above 0 and at most 1; got {strength}.")


def check_image(image: np.ndarray, what: str = "The image") -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise BadInput(f"{what} must be an RGB image.")
    height, width = image.shape[:2]
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise BadInput(f"{what} is {width}×{height}; each side must be {MIN_SIDE}–{MAX_SIDE} pixels.")


def check_mask(mask: np.ndarray, image: np.ndarray) -> None:
    if mask.dtype != np.uint8 or mask.ndim != 2:
        raise BadInput("The mask must be a greyscale image.")
    if mask.shape != image.shape[:2]:
        mh, mw = mask.shape
        ih, iw = image.shape[:2]
        raise BadInput(f"The mask is {mw}×{mh} but the image is {iw}×{ih}; they must be the same size.")
    if not mask.any():
        raise BadInput("The mask is empty: paint over the area that should be repainted.")


# ---- seeds, sizes, images -------------------------------------------------------------------------


def batch_seeds(job: JobBase) -> list[int]:
    """Seed of each image in the batch: the job's seed (or a random one) counting up, like AUTOMATIC1111."""
    first = job.seed if job.seed >= 0 else secrets.randbelow(SEED_RANGE)
    return [(first + index) % SEED_RANGE for index in range(job.batch)]


def with_seed_fixed(job: JobT) -> JobT:
    """`job` with its random seed (-1) drawn now, so that running it again gives the same pictures."""
    if job.seed >= 0:
        return job
    return dataclasses.replace(job, seed=secrets.randbelow(SEED_RANGE))


def round_to_8(value: int) -> int:
    return max(8, round(value / 8) * 8)


def to_pil(image: np.ndarray) -> Image.Image:
    return Image.fromarray(image)


def resized(image: np.ndarray, width: int, height: int) -> np.ndarray:
    if image.shape[1] == width and image.shape[0] == height:
        return image
    mode = Image.Resampling.LANCZOS
    return np.asarray(Image.fromarray(image).resize((width, height), mode))


# ---- the denoising run ----------------------------------------------------------------------------


def encode(ctx: TaskContext, job: JobBase) -> tuple[torch.Tensor, torch.Tensor]:
    c = ctx.model.components
    device, dtype = ctx.device.device, ctx.device.dtype
    with text_encoder_on_device(ctx.model, device):
        return encode_prompts(
            c["tokenizer"],
            c["text_encoder"],
            job.prompt,
            job.negative,
            device,
            dtype,
            clip_skip=job.clip_skip,
            embeddings=ctx.embeddings,
        )


def strength_running_a_step(steps: int, strength: float) -> float:
    """`strength`, or just enough more that the pipeline runs one step (its last) when
    steps × strength rounds down to none: diffusers would return nothing, AUTOMATIC1111 runs one."""
    if int(steps * strength) >= 1:
        return strength
    return min(1.0, 1.5 / steps)


def denoise(
    ctx: TaskContext,
    pipeline_class: type,
    job: JobBase,
    embeds: tuple[torch.Tensor, torch.Tensor],
    seed: int | list[int],
    image_index: int,
    *,
    images: int | None = None,
    start: torch.Tensor | None = None,
    **inputs: Any,
) -> torch.Tensor:
    """Run one image through a diffusers pipeline and return its final latents (no decode); or, for a
    list of seeds, that many images as one batch, each drawing its noise from its own seed's generator,
    so that each is the image its seed gives alone.

    Progress names image `image_index` of `images` (default: the job's batch). `start`: the starting
    noise to use instead of the one `seed` draws; the noise the sampler adds along the way still
    comes from `seed`, as if `seed` had drawn `start`, so `seed`'s own noise gives `seed`'s image.
    """
    ctx.check_cancelled()
    if "strength" in inputs:
        inputs["strength"] = strength_running_a_step(job.steps, inputs["strength"])
    pipe = ctx.model.pipeline(pipeline_class)
    seeds = seed if isinstance(seed, list) else [seed]
    config = ctx.model.components["scheduler"].config
    pipe.scheduler = make_scheduler(job.sampler, config, seeds[0] if len(seeds) == 1 else None)
    images_total = job.batch if images is None else images
    steps = max(1, int(job.steps * inputs.get("strength", 1.0)))
    reported = 0
    previews = PreviewCopies(ctx.model.previewer)

    def on_step_end(pipeline: Any, index: int, _timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        nonlocal reported
        if ctx.is_cancelled():
            raise JobCancelled
        # Second-order samplers (Heun, DPM2, DPM++ SDE) and PLMS call back more often than they
        # have steps; report the steps the artist asked for, each once, the last at the very end.
        ticks = int(getattr(pipeline, "_num_timesteps", 0) or steps)
        step = (index + 1) * steps // ticks
        if step <= reported:
            return {}
        reported = step
        preview = previews.ready()  # a GPU's preview from an earlier step, copied since
        if ctx.preview_every > 0 and (step % ctx.preview_every == 0 or step == steps):
            pushed = previews.push(tensors["latents"], last=step == steps)
            preview = preview if pushed is None else pushed
        ctx.on_step(StepProgress(step, steps, image_index, images_total, preview))
        return {}

    # Noise always comes from a CPU generator, so a seed gives the same start on every device.
    generators = [torch.Generator("cpu").manual_seed(each) for each in seeds]
    generator = generators[0] if len(generators) == 1 else generators
    if start is not None:
        torch.randn(start.shape, generator=generators[0], device="cpu", dtype=start.dtype)
        inputs["latents"] = start
    tiling = Tiling.for_window(native_window(ctx.model), windows_at_once(ctx.device.device))
    with torch.inference_mode(), tiled_unet(pipe.unet, tiling):
        result = pipe(
            prompt_embeds=embeds[0],
            negative_prompt_embeds=embeds[1],
            num_inference_steps=job.steps,
            guidance_scale=job.cfg,
            generator=generator,
            num_images_per_prompt=len(seeds),
            output_type="latent",
            callback_on_step_end=on_step_end,
            **inputs,
        )
    latents: torch.Tensor = result.images
    return latents


def _decode_raw(vae: Any, latents: torch.Tensor, tile: int) -> torch.Tensor:
    """Pixels in -1..1 from latents, in overlapping tiles of `tile` latent pixels when large."""
    if needs_tiles(latents.shape[2], latents.shape[3], tile):
        scale = 2 ** (len(vae.config.block_out_channels) - 1)
        return decode_tiled(lambda part: _decode_piece(vae, part), latents, tile, scale)
    return _decode_piece(vae, latents)


def _decode_piece(vae: Any, latents: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        scaled = latents.to(vae_dtype(vae)) / vae.config.scaling_factor
        decoded: torch.Tensor = vae.decode(scaled, return_dict=False)[0]
        return decoded.float()


def _looks_broken(decoded: torch.Tensor) -> bool:
    """An fp16 VAE overflow shows as NaN/inf, or as an image that is black everywhere."""
    return bool(not torch.isfinite(decoded).all() or (decoded <= -0.995).all())


def decode(ctx: TaskContext, latents: torch.Tensor) -> np.ndarray:
    """Latents to an RGB uint8 image (see `decode_each`)."""
    return decode_each(ctx, latents[:1])[0]


def decode_each(ctx: TaskContext, latents: torch.Tensor) -> list[np.ndarray]:
    """A batch's latents to one RGB uint8 image each, decoded together (one at a time where the memory
    tier slices the VAE). A float16 VAE that overflows is put in float32 for good and decodes again."""
    model = ctx.model
    vae = model.components["vae"]
    decoded = _decode_raw(vae, latents, vae_tile(model))
    if vae_dtype(vae) == torch.float16 and _looks_broken(decoded):
        log.warning("the VAE overflowed in float16; it runs in float32 from now on")
        keep_in_float32(vae)
        decoded = _decode_raw(vae, latents, vae_tile(model))
    decoded = torch.nan_to_num(decoded, nan=0.0)
    pixels = ((decoded.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return list(pixels.permute(0, 2, 3, 1).cpu().numpy())


def make_recipe(
    ctx: TaskContext, job: JobBase, mode: Mode, seed: int, width: int, height: int, **extra: Any
) -> Recipe:
    used = {"sampler": find_sampler(job.sampler).name, "seed": seed, "width": width, "height": height}
    extras = ctx.addons.recipe_extras() | extra.pop("extras", {})
    return Recipe(
        **request_values(job) | used,
        model=ctx.model.name,
        model_hash=ctx.model.hash,
        mode=mode,
        extras=extras,
        **extra,
    )
