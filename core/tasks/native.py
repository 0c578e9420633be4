"""The size a model draws best at, in one place so per-model defaults can refine it later."""

from __future__ import annotations

from sfumato.core.models.loader import LoadedModel


def native_size(model: LoadedModel) -> int:
    """The side, in pixels, of the pictures the model was trained on: the UNet's sample size times
    the VAE's scale (512 for SD 1.x, 64 for the demo model)."""
    return model.native_size


def native_window(model: LoadedModel) -> int:
    """`native_size` in latent pixels: the window the UNet denoises best in one piece."""
    return native_size(model) // model.vae_scale_factor


def vae_tile(model: LoadedModel) -> int:
    """The side, in latent pixels, of the tiles a large image is decoded and encoded in: twice the
    window, as the VAE's output near a tile's edge differs more from the whole picture's than the
    UNet's does."""
    return 2 * native_window(model)
