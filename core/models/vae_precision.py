"""Keeping a float16 model's VAE from overflowing, the way diffusers does: the whole VAE in float32.

A VAE whose config sets `force_upcast` (diffusers' SD and SDXL VAEs do) is put in float32 once, when
the model loads in float16; any other VAE is, once, the first time a float16 decode overflows. It
then stays in float32: no conversion per decode. bfloat16 and float32 models keep their VAE as is.

The whole VAE, not only the layers that overflow (diffusers' former `upcast_vae` kept post_quant_conv,
the decoder's conv_in and mid-block in float16): those are 10.5M of SD 1.5's 83.7M VAE parameters and
run at latent resolution, where little of the decode's time and memory goes; diffusers itself now
deprecates that in favour of `vae.to(torch.float32)`.

The diffusers pipelines hand the VAE's encoder pixels in the UNet's dtype and expect latents back in
it; two hooks convert at the encoder's edges, so img2img and inpainting work whatever the VAE's dtype.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

log = logging.getLogger(__name__)


def vae_dtype(vae: Any) -> torch.dtype:
    dtype: torch.dtype = next(vae.parameters()).dtype
    return dtype


def runs_vae_in_float32(vae: Any, dtype: torch.dtype) -> bool:
    """Whether a VAE for a model in `dtype` is known to overflow unless it runs in float32."""
    return dtype == torch.float16 and bool(getattr(vae.config, "force_upcast", False))


def keep_in_float32(vae: Any) -> None:
    """Put `vae` in float32 for good (a no-op when it already is)."""
    if vae_dtype(vae) != torch.float32:
        vae.float()  # not `.to(dtype)`, on which diffusers warns about modules it has none of


def prepare_vae(vae: Any, dtype: torch.dtype) -> None:
    """Set up a freshly loaded model's VAE for a model running in `dtype`."""
    _fit_encoder_to_callers(vae)
    if runs_vae_in_float32(vae, dtype):
        log.info("the VAE asks for float32 (force_upcast); it runs in float32, the rest in float16")
        keep_in_float32(vae)


def _fit_encoder_to_callers(vae: Any) -> None:
    """Pixels reach the encoder in its own dtype; its latents leave in the dtype the pixels came in."""
    last = vae.quant_conv if getattr(vae, "quant_conv", None) is not None else vae.encoder
    caller = {"dtype": vae_dtype(vae)}

    def take(module: torch.nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
        pixels = args[0]
        caller["dtype"] = pixels.dtype
        return (pixels.to(next(module.parameters()).dtype), *args[1:])

    def give_back(_module: torch.nn.Module, _args: tuple[Any, ...], latents: torch.Tensor) -> torch.Tensor:
        return latents.to(caller["dtype"])

    vae.encoder.register_forward_pre_hook(take)
    last.register_forward_hook(give_back)
