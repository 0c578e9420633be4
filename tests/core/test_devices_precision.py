"""Which precision models run in on each device, and that each gives the float32 picture: bfloat16 where
an NVIDIA GPU has it natively, float16 on other GPUs (its VAE kept in float32 where it would overflow,
memory tiers' offloading included), float32 on the CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionPipeline
from PIL import Image

from sfumato.core.api import Finished, Txt2Img
from sfumato.core.cli.info import info_rows
from sfumato.core.devices import DeviceChoice, pick_device, runs_in_half_precision
from sfumato.core.models.loader import ModelCache
from sfumato.core.precision import ENGINE_BASES, precision_for
from sfumato.core.tasks.common import TaskContext, decode, denoise, encode
from sfumato.core.worker import Worker
from tests.core.image_checks import run_on_worker, textured_image
from tests.core.vae_overflow import copy_with_upcast_flag, latents_of_a_generation, make_vae_overflow

BF16_ON_CPU = DeviceChoice(torch.device("cpu"), torch.bfloat16, "CPU (bfloat16)")
FP16_ON_CPU = DeviceChoice(torch.device("cpu"), torch.float16, "CPU (float16)")


@pytest.mark.parametrize(
    ("device", "bf16", "bases", "expected"),
    [
        ("cuda", True, ENGINE_BASES, torch.bfloat16),  # Ampere and later
        ("cuda", False, ENGINE_BASES, torch.float16),  # Turing, Volta, Pascal
        ("cuda", True, ("sd1", "sd2", "a family not known safe in bfloat16"), torch.float16),
        ("mps", True, ENGINE_BASES, torch.float16),
        ("mps", False, ENGINE_BASES, torch.float16),
        ("cpu", True, ENGINE_BASES, torch.float32),
        ("cpu", False, ENGINE_BASES, torch.float32),
    ],
)
def test_the_precision_for_each_device(
    device: str, bf16: bool, bases: tuple[str, ...], expected: Any
) -> None:
    assert precision_for(device, bf16_supported=bf16, bases=bases) == expected


def test_every_family_the_engine_loads_is_known_safe_in_bfloat16() -> None:
    assert set(ENGINE_BASES) == {"sd1", "sd2"}
    assert precision_for("cuda", bf16_supported=True) == torch.bfloat16


def test_the_cpu_downloads_full_precision_weights_and_info_says_float32(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SFUMATO_DEVICE", raising=False)
    assert pick_device("cpu").dtype == torch.float32 and not runs_in_half_precision("cpu")
    assert dict(info_rows("cpu"))["Precision"] == "float32 (full precision)"


def txt2img(model: Path, seed: int = 3) -> Txt2Img:
    return Txt2Img(model=str(model), prompt="a green hill", steps=3, width=64, height=64, seed=seed)


def picture(choice: DeviceChoice, job: Txt2Img) -> np.ndarray:
    finished = run_on_worker(Worker(choice, preview_every=0), job)[-1]
    assert isinstance(finished, Finished), finished
    return finished.images[0].astype(np.int16)


def test_a_bfloat16_model_gives_the_float32_picture_and_keeps_its_vae_in_bfloat16(
    tiny_model_dir: Path,
) -> None:
    job = txt2img(tiny_model_dir)
    reference = picture(pick_device("cpu"), job)
    worker = Worker(BF16_ON_CPU, preview_every=0)
    finished = run_on_worker(worker, job)[-1]
    assert isinstance(finished, Finished), finished
    difference = np.abs(finished.images[0].astype(np.int16) - reference)
    assert difference.mean() < 1.5 and difference.max() <= 12, (difference.mean(), difference.max())
    model = worker.models.get(str(tiny_model_dir))
    # bfloat16 has float32's range: the VAE needs no float32, whatever its config asks.
    assert {p.dtype for p in model.components["vae"].parameters()} == {torch.bfloat16}
    assert model.components["unet"].dtype == torch.bfloat16


@pytest.fixture(scope="module")
def overflowing_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("models") / "tiny-sd-hot-vae"
    return make_vae_overflow(copy_with_upcast_flag(tiny_model_dir, target, force_upcast=False))


def test_offloading_hooks_carry_a_vae_that_goes_to_float32(overflowing_model_dir: Path) -> None:
    """The low memory tier's accelerate hooks (set up here on the CPU, which the tiers themselves never
    offload from), with a float16 UNet and a VAE that overflows into float32. (The minimal tier's
    sequential offload cannot run with the CPU as its own execution device: tests/core/test_gpu.py.)"""
    model = ModelCache(FP16_ON_CPU).get(str(overflowing_model_dir))
    model.pipeline(StableDiffusionPipeline).enable_model_cpu_offload(device="cpu")
    ctx = TaskContext(model, FP16_ON_CPU, on_step=lambda *_: None, is_cancelled=lambda: False)
    latents = latents_of_a_generation()
    first, second = decode(ctx, latents), decode(ctx, latents)
    assert first.std() > 1 and np.array_equal(first, second)
    assert {p.dtype for p in model.components["vae"].parameters()} == {torch.float32}
    # img2img encodes float16 pixels with the float32 VAE, then the float16 UNet redraws them.
    job = txt2img(overflowing_model_dir)
    image = textured_image(64, 64)
    redrawn = denoise(
        ctx,
        StableDiffusionImg2ImgPipeline,
        job,
        encode(ctx, job),
        1,
        0,
        image=Image.fromarray(image),
        strength=0.5,
    )
    assert redrawn.dtype == torch.float16 and torch.isfinite(redrawn).all()
    assert decode(ctx, redrawn).std() > 1


@pytest.mark.parametrize(("dtype", "half"), [("float16", True), ("bfloat16", True), ("float32", False)])
def test_the_studio_takes_fp16_downloads_for_either_sixteen_bit_precision(dtype: str, half: bool) -> None:
    from sfumato.core.engine_settings import EngineInfo

    assert EngineInfo("cuda", "GPU", dtype, {}).runs_in_half_precision is half
