"""What only a real GPU can show: profiles in half precision (bfloat16 where CUDA has it), a real float16
VAE overflow, tiers on the device's own memory, and a real out-of-memory stepping down. Skipped, with
the reason shown, where there is no CUDA or Metal."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from diffusers import StableDiffusionPipeline

from sfumato.core.api import Failed, Finished, MemoryTierUsed, Txt2Img
from sfumato.core.devices import DeviceChoice, pick_device
from sfumato.core.memory_tiers import LADDER, MemoryTier
from sfumato.core.models.acceleration import accelerate
from sfumato.core.models.loader import ModelCache
from sfumato.core.models.memory_setup import apply_tier
from sfumato.core.precision import cuda_has_native_bf16
from sfumato.core.tasks.common import TaskContext, decode
from sfumato.core.worker import Worker
from tests.core.vae_overflow import copy_with_upcast_flag, latents_of_a_generation, make_vae_overflow

pytestmark = pytest.mark.gpu


def txt2img(model: Path, size: int = 64, batch: int = 1) -> Txt2Img:
    return Txt2Img(
        model=str(model), prompt="a quiet harbour", steps=3, width=size, height=size, seed=9, batch=batch
    )


def run(worker: Worker, job: Txt2Img) -> list[Any]:
    events: list[Any] = []
    worker.run("job", job, events.append, lambda: False)
    return events


def test_the_default_profile_gives_plain_diffusers_picture_in_half_precision(tiny_model_dir: Path) -> None:
    choice = pick_device("auto")

    def picture(pipe: Any) -> np.ndarray:
        generator = torch.Generator("cpu").manual_seed(3)
        images = pipe(
            "a green hill", num_inference_steps=3, height=64, width=64, generator=generator, output_type="np"
        )
        return np.asarray(images.images[0] * 255).round().astype(int)

    pipe = StableDiffusionPipeline.from_pretrained(tiny_model_dir, dtype=choice.dtype, safety_checker=None)
    pipe.to(choice.device)
    pipe.set_progress_bar_config(disable=True)
    expected = picture(pipe)
    accelerate(pipe.components, choice.device, "default")
    assert np.abs(picture(pipe) - expected).max() <= 4


def test_every_tier_runs_on_the_gpu_and_gives_the_same_picture(tiny_model_dir: Path) -> None:
    worker = Worker(pick_device("auto"), preview_every=1)
    pictures = []
    for tier in LADDER:
        worker.memory = tier.value
        events = run(worker, txt2img(tiny_model_dir))
        assert isinstance(events[-1], Finished), events[-1]
        pictures.append(events[-1].images[0].astype(int))
    assert all(np.abs(picture - pictures[0]).max() <= 4 for picture in pictures)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA's memory limit")
def test_a_real_out_of_memory_steps_down_and_frees_what_it_held(tiny_model_dir: Path) -> None:
    worker = Worker(pick_device("cuda"), preview_every=0)
    worker.models.get(str(tiny_model_dir))
    baseline = torch.cuda.memory_allocated()
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction(min(1.0, (baseline + 64 * 1024**2) / total))
    try:
        events = run(worker, txt2img(tiny_model_dir, size=2048, batch=4))
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
    tiers = [event.tier for event in events if isinstance(event, MemoryTierUsed)]
    assert tiers == [tier.value for tier in LADDER][: len(tiers)] and len(tiers) >= 2
    assert isinstance(events[-1], Finished | Failed)
    if isinstance(events[-1], Failed):
        assert "smaller frame" in events[-1].message
    torch.cuda.empty_cache()
    assert torch.cuda.memory_allocated() <= baseline + 16 * 1024**2


@pytest.mark.skipif(not cuda_has_native_bf16(), reason="needs an NVIDIA GPU with native bfloat16 (Ampere+)")
def test_cuda_runs_in_bfloat16_and_gives_the_float32_picture(tiny_model_dir: Path) -> None:
    choice = pick_device("cuda")
    assert choice.dtype == torch.bfloat16
    workers = [Worker(each, preview_every=0) for each in (choice, replace(choice, dtype=torch.float32))]
    pictures = []
    for worker in workers:
        events = run(worker, txt2img(tiny_model_dir))
        assert isinstance(events[-1], Finished), events[-1]
        pictures.append(events[-1].images[0].astype(int))
    difference = np.abs(pictures[0] - pictures[1])
    assert difference.mean() < 1.5 and difference.max() <= 12
    vae = workers[0].models.get(str(tiny_model_dir)).components["vae"]
    assert next(vae.parameters()).dtype == torch.bfloat16  # float32's range: no upcast


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("tier", [MemoryTier.HIGH, MemoryTier.MINIMAL])
def test_a_real_float16_vae_overflow_goes_to_float32_for_good(
    tiny_model_dir: Path, tmp_path: Path, tier: MemoryTier
) -> None:
    hot = make_vae_overflow(copy_with_upcast_flag(tiny_model_dir, tmp_path / "hot", force_upcast=False))
    half = DeviceChoice(torch.device("cuda"), torch.float16, "CUDA (float16)")
    model = ModelCache(half).get(str(hot))
    apply_tier(model, tier, half.device)
    ctx = TaskContext(model, half, on_step=lambda *_: None, is_cancelled=lambda: False)
    latents = latents_of_a_generation()
    first, second = decode(ctx, latents), decode(ctx, latents)
    vae = model.components["vae"]
    assert {p.dtype for p in vae.parameters()} == {torch.float32}
    assert first.std() > 1 and np.abs(first.astype(int) - second.astype(int)).max() <= 1
    full = replace(half, dtype=torch.float32)
    reference = ModelCache(full).get(str(hot))
    expected = decode(
        TaskContext(reference, full, on_step=lambda *_: None, is_cancelled=lambda: False), latents
    )
    assert np.abs(first.astype(int) - expected.astype(int)).mean() < 2
