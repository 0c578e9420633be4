"""Keeping a half-precision model's VAE from overflowing: float32 for good, once it is needed.

Stable Diffusion 1.x and 2.x VAEs decode in the model's half precision, as diffusers' SD pipelines
do (only its SDXL pipelines act on `force_upcast`, which every SD VAE config carries by default).
A float16 decode that overflows (NaN or an all-black image) is done again in float32, and from
then on that model's VAE stays in float32, as AUTOMATIC1111 reverts to a 32-bit VAE: it is
converted once, never back and forth per decode. bfloat16 has float32's range and never needs it.

The whole VAE, not only the layers that overflow (diffusers' former `upcast_vae` kept post_quant_conv,
the decoder's conv_in and mid-block in float16): those are 10.5M of SD 1.5's 83.7M VAE parameters and
run at latent resolution, where little of the decode's time and memory goes; diffusers itself now
deprecates that in favour of `vae.to(torch.float32)`.

The diffusers pipelines hand the VAE's encoder pixels in the UNet's dtype and expect latents back in
it; two hooks convert at the encoder's edges, so img2img and inpainting work whatever the VAE's dtype.
"""

from __future__ import annotations

from typing import Any

import torch


def vae_dtype(vae: Any) -> torch.dtype:
    dtype: torch.dtype = next(vae.parameters()).dtype
    return dtype


def keep_in_float32(vae: Any) -> None:
    """Put `vae` in float32 for good (a no-op when it already is)."""
    if vae_dtype(vae) != torch.float32:
        vae.float()  # not `.to(dtype)`, on which diffusers warns about modules it has none of


def prepare_vae(vae: Any) -> None:
    """Let a freshly loaded VAE's encoder serve callers in any dtype, whatever its own becomes:
    pixels reach the encoder in its own dtype; its latents leave in the dtype the pixels came in."""
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
