"""Large pictures are decoded and encoded by the VAE in overlapping tiles: the result matches the
whole-picture one, without seams, and needs far less memory."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from diffusers import AutoencoderKL

from bench.demo_model.scenes import Scene, render
from sfumato.core.demo import demo_model_dir
from sfumato.core.tasks.tiled_vae import decode_tiled, encode_tiled

SCALE = 4  # the demo VAE's
TILE = 32  # latent pixels: twice the demo model's window, as the engine uses
LEVELS = 127.5  # -1..1 pixels to 0..255 levels


@pytest.fixture(scope="module")
def vae() -> AutoencoderKL:
    return AutoencoderKL.from_pretrained(demo_model_dir() / "vae").eval()


def scene_pixels(side: int) -> torch.Tensor:
    image = render(Scene("blue", "yellow", "triangle", "large", "centre"), side, side)
    return torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / LEVELS - 1


def decoder(vae: AutoencoderKL) -> Callable[[torch.Tensor], torch.Tensor]:
    def decode(latents: torch.Tensor) -> torch.Tensor:
        return vae.decode(latents).sample

    return decode


def encoder(vae: AutoencoderKL) -> Callable[[torch.Tensor], torch.Tensor]:
    def encode(pixels: torch.Tensor) -> torch.Tensor:
        return vae.encode(pixels).latent_dist.mode()

    return encode


@contextmanager
def peak_rss() -> Iterator[list[int]]:
    """The peak resident memory (bytes) of this process while inside, sampled every millisecond."""
    page = 4096
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        statm = Path("/proc/self/statm")
        while not done.is_set():
            peak[0] = max(peak[0], int(statm.read_text().split()[1]) * page)
            time.sleep(0.001)

    watcher = threading.Thread(target=sample)
    watcher.start()
    try:
        yield peak
    finally:
        done.set()
        watcher.join()


def test_a_tiled_decode_equals_the_whole_one_within_a_level_or_two(vae: AutoencoderKL) -> None:
    with torch.inference_mode():
        latents = encoder(vae)(scene_pixels(256))
        whole = decoder(vae)(latents)
        tiled = decode_tiled(decoder(vae), latents, TILE, SCALE)
    difference = (whole - tiled).abs() * LEVELS
    assert tiled.shape == whole.shape == (1, 3, 256, 256)
    assert difference.mean() < 1.5
    assert difference.flatten().quantile(0.99) < 12  # the largest differ on the triangle's antialiased edge


def test_a_tiled_encode_gives_latents_that_decode_to_the_same_picture(vae: AutoencoderKL) -> None:
    pixels = scene_pixels(256)
    with torch.inference_mode():
        tiled = encode_tiled(encoder(vae), pixels, TILE, SCALE, 4)
        back = decoder(vae)(tiled)
    assert tiled.shape == (1, 4, 64, 64)
    assert ((back - pixels).abs() * LEVELS).mean() < 6


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads the memory use from /proc")
def test_a_tiled_decode_needs_far_less_memory_than_a_whole_one(vae: AutoencoderKL) -> None:
    latents = torch.randn(1, 4, 96, 96)  # a 384² picture: the whole decode attends over 9216 places
    with torch.inference_mode():
        decoder(vae)(latents[:, :, :TILE, :TILE])  # warm up, so first-call allocations count for neither
        with peak_rss() as before:
            pass
        with peak_rss() as tiled_peak:  # first: memory the whole decode frees may stay with the process
            decode_tiled(decoder(vae), latents, TILE, SCALE)
        with peak_rss() as whole_peak:
            decoder(vae)(latents)
    baseline = before[0]
    assert tiled_peak[0] - baseline < (whole_peak[0] - baseline) / 2, (baseline, whole_peak, tiled_peak)
