"""Memory tiers: how much of a job stays on the GPU, chosen per job from the memory there is.

Plain arithmetic on byte counts, no torch, so the choice can be reasoned about and tested with any
numbers. The estimates are for Stable Diffusion 1.x/2.x with memory-efficient (SDPA) attention, at the
model's own width; they err on the side of a lower tier, since a wrong guess costs a retry.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

GB = 1024**3


class MemoryTier(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    MINIMAL = "minimal"


LADDER = (MemoryTier.HIGH, MemoryTier.MEDIUM, MemoryTier.LOW, MemoryTier.MINIMAL)
AUTO = "auto"
MEMORY_CHOICES = (AUTO, *(tier.value for tier in LADDER))

WHAT_IT_DOES = {
    MemoryTier.HIGH: "everything on the GPU, a batch as one tensor",
    MemoryTier.MEDIUM: "text encoder off the GPU after encoding, the VAE decoding one image at a time",
    MemoryTier.LOW: "model offload: each part of the model on the GPU only while it runs, sliced attention",
    MemoryTier.MINIMAL: "sequential offload: the model on the GPU a layer at a time, the VAE in tiles",
}
RETRIED_WITH = {
    MemoryTier.MEDIUM: "the text encoder off the GPU",
    MemoryTier.LOW: "model offload",
    MemoryTier.MINIMAL: "sequential offload",
}

# Working memory per image pixel, in elements of the model's dtype, measured on SD 1.5 (width 320):
# the UNet with classifier-free guidance (two latents per image), and the VAE decoder.
_UNET_ELEMENTS_PER_PIXEL = 1024
_DECODE_ELEMENTS_PER_PIXEL = 1536
_SD15_UNET_BYTES = 1_720_000_000  # fp16
_VAE_TILE_PIXELS = 512 * 512
_ATTENTION_SLICING = 0.6  # what is left of the UNet's working memory with sliced attention
_SEQUENTIAL_RESIDENT = 0.05  # the share of the UNet on the GPU at once under sequential offload
_MARGIN = 1.1
_RESERVE = 300 * 1024**2  # allocator fragmentation and the runtime's own buffers


@dataclass(frozen=True)
class ModelSizes:
    """Bytes of each part of a loaded model's weights."""

    unet: int
    vae: int
    text_encoder: int

    @property
    def total(self) -> int:
        return self.unet + self.vae + self.text_encoder

    def parts(self) -> tuple[int, int, int]:
        return self.unet, self.vae, self.text_encoder


SD15_FP16 = ModelSizes(unet=_SD15_UNET_BYTES, vae=167_000_000, text_encoder=246_000_000)


@dataclass(frozen=True)
class JobShape:
    width: int
    height: int
    batch: int = 1
    dtype_bytes: int = 2
    vae_dtype_bytes: int | None = None  # a half-precision model's VAE may have moved to float32

    @property
    def decode_dtype_bytes(self) -> int:
        return self.vae_dtype_bytes or self.dtype_bytes


@dataclass(frozen=True)
class TierChoice:
    """The tier a job runs at, why, and how many of its images go through the UNet together."""

    tier: MemoryTier
    reason: str
    images_per_pass: int = 1

    def describe(self) -> str:
        return f"{self.tier.value} memory tier: {self.reason}"


def lower(tier: MemoryTier) -> MemoryTier | None:
    """The next tier down the ladder, or None below the lowest."""
    index = LADDER.index(tier)
    return LADDER[index + 1] if index + 1 < len(LADDER) else None


def check_memory_choice(choice: str) -> str:
    wanted = choice.strip().lower()
    if wanted not in MEMORY_CHOICES:
        from sfumato.core.api import BadInput

        raise BadInput(f"Unknown memory setting '{choice}'. Choose one of: {', '.join(MEMORY_CHOICES)}.")
    return wanted


def _width_factor(sizes: ModelSizes) -> float:
    """Working memory grows with the UNet's width, roughly as the square root of its weights."""
    return math.sqrt(max(sizes.unet, 1) / _SD15_UNET_BYTES)


def needed_bytes(tier: MemoryTier, sizes: ModelSizes, shape: JobShape, images: int) -> int:
    """About how many bytes a job needs on the device at `tier` with `images` in the UNet at once."""
    pixels = shape.width * shape.height
    unet_work = _UNET_ELEMENTS_PER_PIXEL * pixels * images * shape.dtype_bytes * _width_factor(sizes)
    decode_pixels = min(pixels, _VAE_TILE_PIXELS) if tier is MemoryTier.MINIMAL else pixels
    decode_work = _DECODE_ELEMENTS_PER_PIXEL * decode_pixels * shape.decode_dtype_bytes
    if tier is MemoryTier.HIGH:  # everything resident; the batch decoded as one
        need = sizes.total + max(unet_work, decode_work * images)
    elif tier is MemoryTier.MEDIUM:  # the text encoder away; the VAE decoding an image at a time
        need = sizes.unet + sizes.vae + max(unet_work, decode_work)
    elif tier is MemoryTier.LOW:  # one part of the model on the device at a time
        need = max(sizes.unet + unet_work * _ATTENTION_SLICING, sizes.vae + decode_work)
    else:  # a layer at a time
        need = sizes.unet * _SEQUENTIAL_RESIDENT + max(unet_work * _ATTENTION_SLICING, decode_work)
    return int(need * _MARGIN) + _RESERVE


def images_per_pass(tier: MemoryTier, free: int, sizes: ModelSizes, shape: JobShape) -> int:
    """How many of the batch's images go through the UNet together: the whole batch where it fits on
    the upper tiers, one at a time on the offloading tiers."""
    if tier in (MemoryTier.LOW, MemoryTier.MINIMAL):
        return 1
    for images in range(shape.batch, 1, -1):
        if needed_bytes(tier, sizes, shape, images) <= free:
            return images
    return 1


def choose_tier(
    total: int, free: int, sizes: ModelSizes, shape: JobShape, override: str = AUTO
) -> TierChoice:
    """The tier a job runs at: `override` when it names one, otherwise the highest at which one of
    its images fits in `free` bytes (the minimal tier when none does)."""
    wanted = check_memory_choice(override)
    if wanted != AUTO:
        tier = MemoryTier(wanted)
        return TierChoice(tier, "chosen in the settings", images_per_pass(tier, free, sizes, shape))
    for tier in LADDER:
        need = needed_bytes(tier, sizes, shape, 1)
        if need <= free:
            reason = f"{_gb(free)} free of {_gb(total)}; this job needs about {_gb(need)} at this tier"
            return TierChoice(tier, reason, images_per_pass(tier, free, sizes, shape))
    tier = MemoryTier.MINIMAL
    reason = f"only {_gb(free)} free of {_gb(total)}, less than any tier is expected to need"
    return TierChoice(tier, reason, 1)


def retry_reason(tier: MemoryTier, shape: JobShape, device_word: str = "GPU") -> str:
    """The one line an artist reads when a job is retried one tier down."""
    return (
        f"Not enough {device_word} memory at {shape.width}×{shape.height}: retried with {RETRIED_WITH[tier]}"
    )


def what_would_fit(free: int, sizes: ModelSizes, shape: JobShape, device_word: str = "GPU") -> str:
    """The message of a job that ran out of memory even at the lowest tier: what would fit instead."""
    frame = _fitting_frame(free, sizes, shape)
    batch = f"{shape.batch} images" if shape.batch > 1 else "one image"
    advice = f"a smaller frame (about {frame[0]}×{frame[1]} should fit)"
    if shape.batch > 1:
        advice += " or fewer images at once"
    return (
        f"Not enough {device_word} memory for {batch} at {shape.width}×{shape.height}, even with the model "
        f"moved to the {device_word} a layer at a time. Try {advice}, close other programs using the "
        f"{device_word}, or switch to the CPU in the settings."
    )


def _fitting_frame(free: int, sizes: ModelSizes, shape: JobShape) -> tuple[int, int]:
    """The job's frame scaled down, keeping its proportions, until the lowest tier's estimate fits;
    at least a quarter fewer pixels, since the frame asked for did not fit whatever the estimate says."""
    scale = math.sqrt(0.75)
    while True:
        width, height = (max(64, int(side * scale) // 64 * 64) for side in (shape.width, shape.height))
        smaller = JobShape(width, height, 1, shape.dtype_bytes, shape.vae_dtype_bytes)
        if needed_bytes(MemoryTier.MINIMAL, sizes, smaller, 1) <= free or (width, height) == (64, 64):
            return width, height
        scale *= math.sqrt(0.75)


def _gb(count: int) -> str:
    return f"{count / GB:.1f} GB"
