"""The sampler catalogue: the names artists know from AUTOMATIC1111, mapped onto diffusers schedulers.

The catalogue itself needs no diffusers import, so front ends can list and check names cheaply."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sfumato.core.api import BadInput
from sfumato.core.noise_schedules import bounded_betas

if TYPE_CHECKING:
    from diffusers.schedulers.scheduling_utils import SchedulerMixin


@dataclass(frozen=True)
class Sampler:
    name: str
    scheduler: str
    options: dict[str, Any] = field(default_factory=dict)


_KARRAS = {"use_karras_sigmas": True}

SAMPLERS: dict[str, Sampler] = {
    s.name: s
    for s in (
        Sampler("Euler", "EulerDiscreteScheduler"),
        Sampler("Euler a", "EulerAncestralDiscreteScheduler"),
        Sampler("Heun", "HeunDiscreteScheduler"),
        Sampler("LMS", "LMSDiscreteScheduler"),
        Sampler("LMS Karras", "LMSDiscreteScheduler", _KARRAS),
        Sampler("DPM2", "KDPM2DiscreteScheduler"),
        Sampler("DPM2 a", "KDPM2AncestralDiscreteScheduler"),
        Sampler("DPM++ 2M", "DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++"}),
        Sampler(
            "DPM++ 2M Karras", "DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", **_KARRAS}
        ),
        Sampler("DPM++ 2M SDE", "DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++"}),
        Sampler(
            "DPM++ 2M SDE Karras",
            "DPMSolverMultistepScheduler",
            {"algorithm_type": "sde-dpmsolver++", **_KARRAS},
        ),
        Sampler("DPM++ SDE", "DPMSolverSDEScheduler"),
        Sampler("DPM++ SDE Karras", "DPMSolverSDEScheduler", _KARRAS),
        Sampler("DDIM", "DDIMScheduler"),
        Sampler("PLMS", "PNDMScheduler", {"skip_prk_steps": True}),
        Sampler("UniPC", "UniPCMultistepScheduler"),
        Sampler("LCM", "LCMScheduler"),
    )
}

# Options a checkpoint's own scheduler config may carry that would contradict the chosen sampler.
_SAMPLER_OWNED = (
    "use_karras_sigmas",
    "algorithm_type",
    "skip_prk_steps",
    "solver_order",
    "timestep_spacing",
    "clip_sample",
)


def sampler_names() -> list[str]:
    return list(SAMPLERS)


def find_sampler(name: str) -> Sampler:
    for known, sampler in SAMPLERS.items():
        if known.lower() == name.strip().lower():
            return sampler
    raise BadInput(f"Unknown sampler '{name}'. Available samplers: {', '.join(SAMPLERS)}.")


def make_scheduler(name: str, model_config: dict[str, Any], seed: int | None = None) -> SchedulerMixin:
    """A fresh scheduler for sampler `name`, keeping the model's noise schedule and prediction type
    (a schedule that ends in pure noise starts from a bounded sigma: see `noise_schedules`).

    `seed` feeds samplers whose noise does not come from the pipeline's generator (the Brownian
    tree of "DPM++ SDE"), so the same seed gives the same image with them too.
    """
    import diffusers

    sampler = find_sampler(name)
    base = {k: v for k, v in dict(model_config).items() if k not in _SAMPLER_OWNED and not k.startswith("_")}
    if model_config.get("timestep_spacing") == "trailing":
        # A model whose schedule ends in pure noise must start there; the "leading" spacing of DDIM
        # and PLMS would skip its first 5% and take the layout from the random noise.
        base["timestep_spacing"] = "trailing"
    scheduler_class = getattr(diffusers, sampler.scheduler)
    options = dict(sampler.options)
    parameters = inspect.signature(scheduler_class.__init__).parameters
    if "clip_sample" in parameters:
        # Clipping the predicted sample to [-1, 1] is for pixel-space models. Latents range wider,
        # and DDIM's default would clip them whenever a checkpoint's config does not switch it off.
        options["clip_sample"] = False
    if seed is not None and "noise_sampler_seed" in parameters:
        options["noise_sampler_seed"] = seed
    scheduler: SchedulerMixin = scheduler_class.from_config(base, **options)
    alphas_cumprod = getattr(scheduler, "alphas_cumprod", None)
    betas = bounded_betas(alphas_cumprod) if alphas_cumprod is not None else None
    if betas is not None:
        scheduler = scheduler_class.from_config(base, **options, trained_betas=betas)
    return scheduler


def batches_like_singles(name: str) -> bool:
    """Whether a batch drawn as one tensor gives each image its single-seed picture with sampler
    `name`: true unless its noise comes from one seed for the whole batch (a Brownian tree)."""
    import diffusers

    scheduler_class = getattr(diffusers, find_sampler(name).scheduler)
    return "noise_sampler_seed" not in inspect.signature(scheduler_class.__init__).parameters
