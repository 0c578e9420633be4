"""The demo add-ons' trainer fits the diamonds' latents to the decoder, so the LoRA learns the corners
the demo autoencoder's round trip rounds off."""

from __future__ import annotations

import numpy as np
import torch

from bench.demo_model.addons import lora_scenes
from tools.train_demo_addons import fitted_to_decoder, latents_of, load_demo
from tools.train_demo_model import draw_dataset


def test_fitted_diamond_latents_decode_closer_to_their_drawings() -> None:
    _, _, vae, _ = load_demo()
    scenes = [scene for scene in lora_scenes(held_out=False) if scene.size == "small"][:4]
    images = draw_dataset(scenes, np.random.default_rng(0))
    encoded = latents_of(vae, images)
    fitted = fitted_to_decoder(vae, images, encoded, steps=5)

    def error(latents: torch.Tensor) -> float:
        with torch.no_grad():
            decoded = vae.decode(latents / float(vae.config.scaling_factor)).sample
        return float((decoded - torch.from_numpy(images)).abs().mean())

    assert error(fitted) < 0.85 * error(encoded)
    assert torch.equal(fitted, fitted_to_decoder(vae, images, encoded, steps=5))
