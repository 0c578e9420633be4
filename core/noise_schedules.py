"""Bounding a noise schedule's last sigma, so that every sampler can start from it.

A schedule that ends in pure noise (zero terminal SNR, such as the cosine schedule of the demo
model) has a last sigma in the tens of thousands. Euler-type samplers cope, but the first step of a
second-order or multistep sampler is then a thousand times its second, and it falls apart; with
Karras spacing diffusers fails outright. The model's prediction at its last timestep comes from the
prompt alone, so starting from a bounded sigma asks it the same question.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# The largest first sigma samplers are given. Measured on the demo model (held-out prompts,
# 20 steps): Heun drew 0/8 right from its own last sigma, 3/8 from 160, 5/8 from 80, 8/8 from 40.
# SD's own schedule ends at 14.6, so checkpoints that use it are never touched.
MAX_SIGMA = 40.0


def last_sigma(alphas_cumprod: torch.Tensor) -> float:
    last = float(alphas_cumprod[-1])
    return float("inf") if last <= 0 else ((1 - last) / last) ** 0.5


def bounded_betas(alphas_cumprod: torch.Tensor, max_sigma: float = MAX_SIGMA) -> list[float] | None:
    """Betas for the same schedule with its last sigma lowered to `max_sigma`, or None when it
    already ends there or below.

    sqrt(alpha_bar) is moved linearly so that its first value stays and its last becomes the one
    for `max_sigma`; every timestep between keeps nearly its own noise level.
    """
    import torch

    if last_sigma(alphas_cumprod) <= max_sigma:
        return None
    root = alphas_cumprod.double().sqrt()
    first, last = root[0], root[-1]
    target = (1 + max_sigma**2) ** -0.5
    moved = target + (root - last) * (first - target) / (first - last)
    alphas = moved**2
    betas = 1 - torch.cat([alphas[:1], alphas[1:] / alphas[:-1]])
    return [float(beta) for beta in betas]
