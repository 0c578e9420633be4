"""Image to image as an artist uses it: the size asked for, strength deciding how far the picture moves
from the init image, clear refusals of impossible strengths, and both kinds of checkpoint."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from diffusers import AutoencoderKL
from safetensors.torch import load_file, save_file

from sfumato.core.api import ErrorKind, Failed, Finished, Img2Img, Mode, Step
from sfumato.core.engine import Engine
from tests.core.engine_helpers import run_events, terminal
from tests.core.image_checks import textured_image


def img2img_job(model_dir: Path, init: np.ndarray, **overrides: Any) -> Img2Img:
    settings: dict[str, Any] = dict(
        model=str(model_dir), prompt="a red circle", init=init, steps=3, width=64, height=64, seed=11
    )
    settings.update(overrides)
    return Img2Img(**settings)


def _encode_like_a_trained_vae(source: Path, target: Path) -> Path:
    """A copy of a tiny model whose VAE encodes the way trained ones do.

    The random tiny VAE's posterior is wide (std ≈ 1 against means spread ≈ 0.3), and its latents are
    scaled by SD's 0.18215, a factor measured for a real VAE. An img2img start from the init image is
    then mostly encoder noise whatever the strength. Trained VAEs have a nearly exact posterior and a
    scaling factor that gives latents unit spread; this copy gets both and keeps every other weight.
    """
    shutil.copytree(source, target)
    weights_file = target / "vae" / "diffusion_pytorch_model.safetensors"
    weights = load_file(weights_file)
    channels = weights["quant_conv.bias"].shape[0] // 2  # means first, then log-variances
    weights["quant_conv.weight"][channels:] = 0.0
    weights["quant_conv.bias"][channels:] = -30.0  # the floor diffusers clamps to: std e^-15
    save_file(weights, weights_file)
    vae = AutoencoderKL.from_pretrained(target / "vae")
    with torch.no_grad():
        pixels = torch.from_numpy(textured_image(64, 64, seed=3)).permute(2, 0, 1)[None].float()
        spread = float(vae.encode(pixels / 127.5 - 1.0).latent_dist.mean.std())
    config_file = target / "vae" / "config.json"
    config = json.loads(config_file.read_text("utf-8"))
    config["scaling_factor"] = 1.0 / spread
    config_file.write_text(json.dumps(config), "utf-8")
    return target


def _vae_round_trip(model_dir: Path, image: np.ndarray) -> np.ndarray:
    """What the model's VAE makes of `image`: where img2img ends as the strength approaches 0."""
    vae = AutoencoderKL.from_pretrained(model_dir / "vae")
    with torch.no_grad():
        pixels = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 127.5 - 1.0
        decoded = vae.decode(vae.encode(pixels).latent_dist.mean).sample
    return ((decoded[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()


@pytest.fixture(scope="module")
def trained_like_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _encode_like_a_trained_vae(tiny_model_dir, tmp_path_factory.mktemp("models") / "tiny-sd-exact")


async def test_output_has_the_requested_size_and_the_recipe_records_strength(
    engine: Engine, tiny_model_dir: Path
) -> None:
    init = textured_image(48, 80)
    job = img2img_job(tiny_model_dir, init, width=64, height=96, strength=0.6, batch=2)
    finished = terminal(await run_events(engine, job))
    assert isinstance(finished, Finished)
    assert [image.shape for image in finished.images] == [(96, 64, 3)] * 2
    for recipe, seed in zip(finished.recipes, (11, 12), strict=True):
        assert recipe.mode == Mode.IMG2IMG and recipe.strength == 0.6
        assert (recipe.width, recipe.height, recipe.seed) == (64, 96, seed)


async def test_low_strength_stays_close_and_high_strength_departs(
    engine: Engine, trained_like_model_dir: Path
) -> None:
    """Measured against the VAE's own rendering of the init image: an untrained decoder cannot
    reproduce any picture, so that rendering is the closest any generation can come to it."""
    init = textured_image(64, 64)
    reference = _vae_round_trip(trained_like_model_dir, init).astype(np.int16)
    distance = {}
    for strength in (0.1, 1.0):
        job = img2img_job(trained_like_model_dir, init, steps=10, strength=strength)
        finished = terminal(await run_events(engine, job))
        assert isinstance(finished, Finished)
        distance[strength] = float(np.abs(finished.images[0].astype(np.int16) - reference).mean())
    # One light step moves pixels by a few levels; a full repaint by tens.
    assert distance[0.1] < 8.0
    assert distance[1.0] > 3 * distance[0.1]


@pytest.mark.parametrize("model", ["tiny_model_dir", "tiny_inpaint_model_dir"])
async def test_a_strength_too_low_for_the_steps_still_runs_one_step(
    engine: Engine, model: str, request: pytest.FixtureRequest
) -> None:
    """3 steps at strength 0.2 is less than one step; like AUTOMATIC1111 it runs one rather than none."""
    model_dir: Path = request.getfixturevalue(model)
    events = await run_events(engine, img2img_job(model_dir, textured_image(64, 64), strength=0.2))
    finished = terminal(events)
    assert isinstance(finished, Finished), finished
    assert [(e.step, e.total) for e in events if isinstance(e, Step)] == [(1, 1)]
    assert finished.images[0].shape == (64, 64, 3) and finished.recipes[0].strength == 0.2


@pytest.mark.parametrize("strength", [0.0, -0.5, 1.5])
async def test_impossible_strengths_are_refused(
    engine: Engine, tiny_model_dir: Path, strength: float
) -> None:
    job = img2img_job(tiny_model_dir, textured_image(64, 64), strength=strength)
    failed = terminal(await run_events(engine, job))
    assert isinstance(failed, Failed)
    assert failed.kind == ErrorKind.BAD_INPUT
    assert "Strength" in failed.message and str(strength) in failed.message


async def test_works_with_an_inpainting_checkpoint(engine: Engine, tiny_inpaint_model_dir: Path) -> None:
    init = textured_image(64, 64)
    job = img2img_job(tiny_inpaint_model_dir, init, width=64, height=80, strength=0.75)
    finished = terminal(await run_events(engine, job))
    assert isinstance(finished, Finished), finished
    image = finished.images[0]
    assert image.shape == (80, 64, 3)
    assert finished.recipes[0].mode == Mode.IMG2IMG and finished.recipes[0].strength == 0.75
    again = terminal(await run_events(engine, job))
    assert isinstance(again, Finished) and np.array_equal(image, again.images[0])


async def test_progress_counts_only_the_steps_that_strength_runs(
    engine: Engine, tiny_model_dir: Path
) -> None:
    picture = np.full((64, 64, 3), 100, np.uint8)
    job = Img2Img(
        model=str(tiny_model_dir), prompt="a cat", init=picture, width=64, height=64, steps=10, strength=0.5
    )
    events = await run_events(engine, job)
    assert [(e.step, e.total) for e in events if isinstance(e, Step)] == [(n, 5) for n in range(1, 6)]
