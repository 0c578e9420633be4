"""Cheap live previews: a linear map from latents to RGB, fitted to the model's own VAE.

Fitting once per loaded model (one small encode of a colour chart) makes the preview right for any
checkpoint's latent space instead of relying on constants measured for one model family.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

_CHART_SIZE = 128


def _colour_chart(size: int) -> np.ndarray:
    """An RGB chart in [0, 1] spanning hues left to right and brightness top to bottom."""
    x = np.linspace(0.0, 1.0, size, dtype=np.float32)
    hue = np.broadcast_to(x[None, :], (size, size)) * 6.0
    value = np.broadcast_to(np.linspace(1.0, 0.1, size, dtype=np.float32)[:, None], (size, size))
    channels = [np.clip(np.abs(((hue + shift) % 6.0) - 3.0) - 1.0, 0.0, 1.0) for shift in (0.0, 4.0, 2.0)]
    chart = np.stack(channels, axis=-1) * value[..., None]
    chart[: size // 4, : size // 4] = 1.0  # white and black patches anchor the extremes
    chart[-size // 4 :, -size // 4 :] = 0.0
    return chart


class LatentPreviewer:
    def __init__(self, weights: torch.Tensor, bias: torch.Tensor) -> None:
        self.weights = weights  # (channels, 3)
        self.bias = bias  # (3,)

    @classmethod
    @torch.no_grad()
    def fit(cls, vae: Any) -> LatentPreviewer:
        config = vae.config
        factor = 2 ** (len(config.block_out_channels) - 1)
        param = next(vae.parameters())
        chart = _colour_chart(_CHART_SIZE)
        pixels = torch.from_numpy(chart).permute(2, 0, 1)[None].to(param.device, param.dtype) * 2.0 - 1.0
        latents = vae.encode(pixels).latent_dist.mean.float() * config.scaling_factor
        cells = _CHART_SIZE // factor
        targets = chart.reshape(cells, factor, cells, factor, 3).mean(axis=(1, 3)).reshape(-1, 3)
        features = latents[0].permute(1, 2, 0).reshape(-1, latents.shape[1]).cpu()
        design = torch.cat([features, torch.ones(features.shape[0], 1)], dim=1)
        solution = torch.linalg.lstsq(design, torch.from_numpy(targets).float()).solution
        return cls(solution[:-1], solution[-1])

    @torch.no_grad()
    def __call__(self, latents: torch.Tensor) -> np.ndarray:
        """RGB uint8 (h, w, 3) preview of the first latent in the batch, at latent resolution."""
        first = latents[0].float().permute(1, 2, 0)
        rgb = first @ self.weights.to(first.device) + self.bias.to(first.device)
        return (rgb.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).cpu().numpy()
