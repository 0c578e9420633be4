"""Turning latents into pixels: a float16 model's VAE is kept from overflowing the way diffusers does
(in float32 for good once it overflows, never converted per decode), and the live
preview shows what the decoded picture will look like."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from diffusers import AutoencoderKL

from sfumato.core.api import Finished, Img2Img, Inpaint, Step, Txt2Img
from sfumato.core.devices import DeviceChoice
from sfumato.core.engine import Engine
from sfumato.core.models.loader import LoadedModel, ModelCache
from sfumato.core.tasks.common import TaskContext, decode
from sfumato.core.worker import Worker
from tests.core.engine_helpers import run_events, terminal
from tests.core.image_checks import run_on_worker, textured_image
from tests.core.vae_overflow import (
    FP16_LARGEST,
    copy_with_upcast_flag,
    latents_of_a_generation,
    make_vae_overflow,
)

HALF_ON_CPU = DeviceChoice(torch.device("cpu"), torch.float16, "CPU (half precision)")


def to_pixels(decoded: torch.Tensor) -> np.ndarray:
    return ((decoded[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()


def float32_reference(model_dir: Path, latents: torch.Tensor) -> np.ndarray:
    vae = AutoencoderKL.from_pretrained(model_dir / "vae")
    with torch.no_grad():
        return to_pixels(vae.decode(latents / vae.config.scaling_factor).sample)


@pytest.fixture(scope="module", autouse=True)
def _half_precision_runs_on_this_cpu(tiny_model_dir: Path) -> None:
    """Half precision convolutions and group norms need a recent PyTorch on the CPU."""
    vae = AutoencoderKL.from_pretrained(tiny_model_dir / "vae", torch_dtype=torch.float16)
    try:
        with torch.no_grad():
            vae.decode(latents_of_a_generation().half())
    except RuntimeError as error:  # "... not implemented for 'Half'"
        pytest.skip(f"this PyTorch cannot run a float16 VAE on the CPU: {error}")


@pytest.fixture(scope="module")
def fp16_vae_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with `force_upcast` off in its VAE config."""
    target = tmp_path_factory.mktemp("models") / "tiny-sd-fp16-vae"
    return copy_with_upcast_flag(tiny_model_dir, target, force_upcast=False)


@pytest.fixture(scope="module")
def overflowing_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with a VAE whose decoder overflows float16."""
    target = tmp_path_factory.mktemp("models") / "tiny-sd-hot-vae"
    return make_vae_overflow(copy_with_upcast_flag(tiny_model_dir, target, force_upcast=False))


@pytest.fixture(scope="module")
def upcast_flag_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with `force_upcast` set in its VAE config, as every SD VAE config has by default."""
    target = tmp_path_factory.mktemp("models") / "tiny-sd-upcast-vae"
    return copy_with_upcast_flag(tiny_model_dir, target, force_upcast=True)


def load_in_half_precision(model_dir: Path) -> LoadedModel:
    return ModelCache(HALF_ON_CPU).get(str(model_dir))


def context(model: LoadedModel) -> TaskContext:
    return TaskContext(model, HALF_ON_CPU, on_step=lambda *_: None, is_cancelled=lambda: False)


def decode_watched(model: LoadedModel, latents: torch.Tensor, seen: list[torch.dtype]) -> np.ndarray:
    """`decode`, noting in `seen` the dtype each run of the VAE's decoder takes."""

    def record(_module: torch.nn.Module, args: tuple[Any, ...]) -> None:
        seen.append(args[0].dtype)

    handle = model.components["vae"].decoder.register_forward_pre_hook(record)
    try:
        return decode(context(model), latents)
    finally:
        handle.remove()


def vae_dtype(model: LoadedModel) -> set[torch.dtype]:
    return {p.dtype for p in model.components["vae"].parameters()}


def vae_storage(model: LoadedModel) -> list[int]:
    """Where the VAE's weights live: any conversion of the VAE moves them."""
    return [p.data_ptr() for p in model.components["vae"].parameters()]


def test_an_overflowing_float16_vae_goes_to_float32_for_good(overflowing_model_dir: Path) -> None:
    model = load_in_half_precision(overflowing_model_dir)
    vae = model.components["vae"]
    latents = latents_of_a_generation()
    float32_vae = AutoencoderKL.from_pretrained(overflowing_model_dir / "vae")
    with torch.no_grad():
        peak = float(float32_vae.decoder.conv_in(latents / vae.config.scaling_factor).abs().max())
        plain_half = vae.decode((latents / vae.config.scaling_factor).half()).sample
    assert FP16_LARGEST < peak < 1e30, "the test VAE should overflow float16 only"
    assert not torch.isfinite(plain_half).all(), "this VAE should break in plain float16"

    seen: list[torch.dtype] = []
    image = decode_watched(model, latents, seen)
    storage_after_first = vae_storage(model)
    again = decode_watched(model, latents, seen)

    assert image.dtype == np.uint8 and image.shape == (64, 64, 3)
    assert image.mean() > 20 and image.std() > 1, "the retried decode is black or flat"
    reference = float32_reference(overflowing_model_dir, latents)
    assert np.abs(image.astype(np.int16) - reference).mean() < 2
    # The first decode tried float16 then float32; from then on float32 straight away.
    assert seen == [torch.float16, torch.float32, torch.float32]
    assert np.array_equal(image, again)
    assert vae_dtype(model) == {torch.float32}, "the VAE should stay in float32"
    assert vae_storage(model) == storage_after_first, "the second decode converted the VAE"
    assert model.components["unet"].dtype == torch.float16, "only the VAE leaves float16"


@pytest.mark.parametrize("flagged", [False, True], ids=["plain", "force_upcast"])
def test_a_vae_that_does_not_overflow_decodes_in_float16(
    flagged: bool, fp16_vae_dir: Path, upcast_flag_model_dir: Path
) -> None:
    """As diffusers' SD pipelines do: half precision whatever `force_upcast` says, until it overflows."""
    model_dir = upcast_flag_model_dir if flagged else fp16_vae_dir
    model = load_in_half_precision(model_dir)
    latents = latents_of_a_generation(1)
    seen: list[torch.dtype] = []
    image = decode_watched(model, latents, seen)
    assert seen == [torch.float16]
    assert vae_dtype(model) == {torch.float16}
    reference = float32_reference(model_dir, latents)
    assert np.abs(image.astype(np.int16) - reference).mean() < 2


def test_img2img_and_inpainting_encode_with_a_float32_vae_beside_a_float16_unet(
    overflowing_model_dir: Path,
) -> None:
    """Once a decode overflowed, the VAE is float32 while the pipelines hand it float16 pixels."""
    worker = Worker(HALF_ON_CPU, preview_every=0)
    init = textured_image(64, 64)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    common: dict[str, Any] = dict(model=str(overflowing_model_dir), prompt="a red barn", steps=2, seed=4)
    jobs: list[Txt2Img | Img2Img | Inpaint] = [
        Txt2Img(width=64, height=64, **common),
        Img2Img(init=init, strength=0.6, width=64, height=64, **common),
        Inpaint(init=init, mask=mask, strength=0.8, **common),
    ]
    for job in jobs:
        finished = run_on_worker(worker, job)[-1]
        assert isinstance(finished, Finished), finished
        assert finished.images[0].shape == (64, 64, 3) and finished.images[0].std() > 1
        model = worker.models.get(str(overflowing_model_dir))
        assert vae_dtype(model) == {torch.float32}, "the first decode should have overflowed"
    assert model.components["unet"].dtype == torch.float16


async def test_previews_have_latent_resolution(engine: Engine, tiny_model_dir: Path) -> None:
    job = Txt2Img(model=str(tiny_model_dir), prompt="a red circle", steps=3, width=64, height=96, seed=1)
    events = await run_events(engine, job)
    assert isinstance(terminal(events), Finished)
    previews = [e.preview for e in events if isinstance(e, Step)]
    assert len(previews) == 3 and all(p is not None and p.shape == (12, 8, 3) for p in previews)


async def test_the_last_preview_tracks_the_decoded_image(engine: Engine, tiny_model_dir: Path) -> None:
    """The preview of the last step against the finished picture, over a few seeds.

    A constant image cannot correlate with anything, so a clearly positive correlation between the
    preview and the picture (averaged over the 8×8 cells the preview stands for) shows it follows
    the picture's layout; its error must also beat a mid-grey stand-in. DDIM is used because with
    the untrained test UNet, samplers that start from noise scaled up to sigma max (Euler and
    family) finish with latents about 15 times the spread of image latents: the UNet removes no
    noise. The VAE decoder's group norms ignore that scale, a linear preview cannot. DDIM works
    in unscaled latents and finishes at the spread of image latents, as a trained model does.
    """
    correlations, preview_errors, grey_errors = [], [], []
    for seed in range(4):
        settings: dict[str, Any] = dict(prompt="a red circle", steps=3, width=64, height=64, sampler="DDIM")
        job = Txt2Img(model=str(tiny_model_dir), seed=seed, **settings)
        events = await run_events(engine, job)
        finished = terminal(events)
        assert isinstance(finished, Finished)
        image = finished.images[0].astype(np.float64)
        preview = [e.preview for e in events if isinstance(e, Step)][-1]
        assert preview is not None
        cells = image.reshape(8, 8, 8, 8, 3).mean(axis=(1, 3))
        for channel in range(3):
            a, b = preview[..., channel].ravel().astype(np.float64), cells[..., channel].ravel()
            correlations.append(float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 else 0.0)
        upscaled = np.repeat(np.repeat(preview.astype(np.float64), 8, axis=0), 8, axis=1)
        preview_errors.append(np.abs(upscaled - image).mean())
        grey_errors.append(np.abs(127.5 - image).mean())
    assert np.mean(correlations) > 0.1, correlations
    assert np.mean(preview_errors) < np.mean(grey_errors)
