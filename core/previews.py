"""Live previews of a generation's step latents.

`TinyDecoderPreviewer` decodes them with TAESD, a tiny VAE decoder, into a full-size image when the
artist has installed it. Otherwise `LatentPreviewer` is a cheap linear map from latents to RGB,
fitted to the model's own VAE.

Fitting once per loaded model makes the linear preview right for any checkpoint's latent space
instead of relying on constants measured for one model family. The map is fitted to what the VAE's
decoder makes of latents, since the decoded image is what the preview stands in for: a colour
chart's own latents, and the same latents with noise of the spread a generation's latents have.
"""

from __future__ import annotations

from typing import Any, Protocol

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


class Previewer(Protocol):
    def __call__(self, latents: torch.Tensor) -> np.ndarray:
        """RGB uint8 (h, w, 3) preview of the first latent in the batch."""
        ...

    def on_device(self, latents: torch.Tensor) -> torch.Tensor:
        """The same preview as a uint8 tensor still on the latents' device."""
        ...


class PreviewCopies:
    """Previews that never make the GPU wait: each is made on the device and copied to pinned memory
    without blocking, and handed on once the copy is done, a step later if need be. On the CPU (and on
    Apple GPUs, whose copies cannot be waited for apart) a preview is handed on at once."""

    def __init__(self, previewer: Previewer) -> None:
        self.previewer = previewer
        self._pending: tuple[torch.Tensor, Any] | None = None

    def push(self, latents: torch.Tensor, *, last: bool = False) -> np.ndarray | None:
        """This preview, on the CPU or when `last`; otherwise None, and `ready` hands it on later. A
        GPU preview still copying when the next comes is dropped: it would only be out of date."""
        pixels = self.previewer.on_device(latents)
        if pixels.device.type != "cuda":
            return pixels.cpu().numpy()
        host = torch.empty(pixels.shape, dtype=pixels.dtype, pin_memory=True)
        host.copy_(pixels, non_blocking=True)
        copied = torch.cuda.Event()
        copied.record()
        self._pending = (host, copied)
        return self._take(wait=True) if last else None

    def ready(self) -> np.ndarray | None:
        """The preview pushed last, if its copy has finished since."""
        return self._take(wait=False)

    def _take(self, *, wait: bool) -> np.ndarray | None:
        if self._pending is None:
            return None
        host, copied = self._pending
        if wait:
            copied.synchronize()
        elif not copied.query():
            return None
        self._pending = None
        return host.numpy()


class TinyDecoderPreviewer:
    """Full-resolution previews from TAESD (a diffusers `AutoencoderTiny`).

    The pipeline's latents are already multiplied by the VAE's scaling factor, which is the scale
    TAESD's decoder takes.
    """

    def __init__(self, decoder: Any) -> None:
        self.decoder = decoder

    def __call__(self, latents: torch.Tensor) -> np.ndarray:
        """RGB uint8 (H, W, 3) preview of the first latent in the batch, at image resolution."""
        return self.on_device(latents).cpu().numpy()

    @torch.no_grad()
    def on_device(self, latents: torch.Tensor) -> torch.Tensor:
        param = next(self.decoder.parameters())
        first = latents[:1].to(param.device, param.dtype)
        image = self.decoder.decode(first).sample[0].float()
        rgb = (image.nan_to_num(0.0).clamp(-1.0, 1.0) * 0.5 + 0.5).permute(1, 2, 0)
        return (rgb * 255.0).round().to(torch.uint8)


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
        clean = vae.encode(pixels).latent_dist.mean
        generator = torch.Generator("cpu").manual_seed(0)
        noise = torch.randn(clean.shape, generator=generator).to(clean) / config.scaling_factor
        latents = torch.cat([clean, clean + noise])
        decoded = vae.decode(latents).sample.float().clamp(-1.0, 1.0) * 0.5 + 0.5
        targets = _cell_colours(decoded, factor)
        if not torch.isfinite(targets).all() or bool((targets < 0.003).all()):
            # A half-precision decoder that overflows (NaN or all black): fit to the chart instead.
            latents = clean
            targets = _cell_colours(torch.from_numpy(chart).permute(2, 0, 1)[None], factor)
        scaled = latents.float() * config.scaling_factor
        features = scaled.permute(0, 2, 3, 1).reshape(-1, latents.shape[1]).cpu()
        design = torch.cat([features, torch.ones(features.shape[0], 1)], dim=1)
        solution = torch.linalg.lstsq(design, targets).solution
        return cls(solution[:-1], solution[-1])

    def __call__(self, latents: torch.Tensor) -> np.ndarray:
        """RGB uint8 (h, w, 3) preview of the first latent in the batch, at latent resolution."""
        return self.on_device(latents).cpu().numpy()

    @torch.no_grad()
    def on_device(self, latents: torch.Tensor) -> torch.Tensor:
        first = latents[0].float().permute(1, 2, 0)
        rgb = first @ self.weights.to(first.device) + self.bias.to(first.device)
        return (rgb.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)


def _cell_colours(images: torch.Tensor, factor: int) -> torch.Tensor:
    """Mean RGB of each `factor` x `factor` cell of (n, 3, H, W) images, as rows of a (cells, 3) matrix."""
    n, channels, height, width = images.shape
    cells = images.reshape(n, channels, height // factor, factor, width // factor, factor).mean(dim=(3, 5))
    return cells.permute(0, 2, 3, 1).reshape(-1, channels).cpu().float()
