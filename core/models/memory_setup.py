"""Putting a memory tier into effect on a loaded model with diffusers' own switches, and undoing it
when the next job runs at another tier. On the CPU there is nowhere to offload to: only the switches
that shrink working memory (VAE slicing and tiling, attention slicing) apply there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psutil
import torch
from diffusers import StableDiffusionPipeline

from sfumato.core.memory_tiers import (
    AUTO,
    SD15_FP16,
    JobShape,
    MemoryTier,
    ModelSizes,
    TierChoice,
    check_memory_choice,
    choose_tier,
)

_OFFLOADED = ("text_encoder", "unet", "vae")


def device_memory(device: torch.device) -> tuple[int, int]:
    """(total, free) bytes where the job's tensors live: the GPU's own memory, or the computer's RAM."""
    if device.type == "cuda":
        free, total = torch.cuda.mem_get_info(device)
        return int(total), int(free)
    if device.type == "mps":
        total = int(torch.mps.recommended_max_memory())
        return total, max(0, total - int(torch.mps.driver_allocated_memory()))
    ram = psutil.virtual_memory()
    return int(ram.total), int(ram.available)


def device_word(device: torch.device) -> str:
    return "GPU" if device.type in ("cuda", "mps") else "computer"


def job_tier(device: torch.device, sizes: ModelSizes, shape: JobShape, memory: str = AUTO) -> TierChoice:
    """The tier a job starts at on `device`. On the CPU, automatically the high tier: there is nowhere to
    offload to, and a tier chosen from the RAM free at the moment would round pixels differently from
    one run to the next (sliced attention); running out of memory still steps down."""
    if device.type == "cpu" and check_memory_choice(memory) == AUTO:
        return TierChoice(
            MemoryTier.HIGH, "on the CPU everything stays in the computer's memory", shape.batch
        )
    return choose_tier(*device_memory(device), sizes, shape, memory)


def typical_tier(device: torch.device, memory: str = AUTO) -> TierChoice:
    """The tier an SD 1.5 model's 512×512 image would run at on `device` now: what `sfumato info` shows."""
    dtype_bytes = 4 if device.type == "cpu" else 2
    sizes = SD15_FP16 if dtype_bytes == 2 else ModelSizes(*(2 * size for size in SD15_FP16.parts()))
    return job_tier(device, sizes, JobShape(512, 512, 1, dtype_bytes), memory)


def model_sizes(components: dict[str, Any]) -> ModelSizes:
    def size(name: str) -> int:
        return sum(p.numel() * p.element_size() for p in components[name].parameters())

    return ModelSizes(unet=size("unet"), vae=size("vae"), text_encoder=size("text_encoder"))


def apply_tier(model: Any, tier: MemoryTier, device: torch.device) -> None:
    """Set `model` (a LoadedModel) up for `tier`, first undoing what its previous tier switched on."""
    if model.memory_tier is tier:
        return
    components = model.components
    unet, vae = components["unet"], components["vae"]
    _undo(model, device)
    offloading = device.type != "cpu"
    if tier is not MemoryTier.HIGH:
        vae.enable_slicing()
        if offloading:
            components["text_encoder"].to("cpu")
    if tier is MemoryTier.MINIMAL:
        vae.enable_tiling()  # the last resort, since tiles blend where they meet: a faintly other picture
    if tier in (MemoryTier.LOW, MemoryTier.MINIMAL):
        model.attention_processors = unet.attn_processors
        unet.set_attention_slice("auto")
    if offloading and tier is MemoryTier.LOW:
        model.pipeline(StableDiffusionPipeline).enable_model_cpu_offload(device=device)
    if offloading and tier is MemoryTier.MINIMAL:
        model.pipeline(StableDiffusionPipeline).enable_sequential_cpu_offload(device=device)
    model.memory_tier = tier


def _undo(model: Any, device: torch.device) -> None:
    from accelerate.hooks import remove_hook_from_module

    components = model.components
    for name in _OFFLOADED:
        remove_hook_from_module(components[name], recurse=True)
        components[name].to(device)
    model.pipeline(StableDiffusionPipeline)._all_hooks = []
    components["vae"].disable_slicing()
    components["vae"].disable_tiling()
    if model.attention_processors is not None:
        components["unet"].set_attn_processor(model.attention_processors)
        model.attention_processors = None
    model.memory_tier = MemoryTier.HIGH


@contextmanager
def text_encoder_on_device(model: Any, device: torch.device) -> Iterator[None]:
    """At the medium tier the text encoder lives off the GPU and comes on only to encode prompts."""
    encoder = model.components["text_encoder"]
    visiting = model.memory_tier is MemoryTier.MEDIUM and device.type != "cpu"
    if visiting:
        encoder.to(device)
    try:
        yield
    finally:
        if visiting:
            encoder.to("cpu")
