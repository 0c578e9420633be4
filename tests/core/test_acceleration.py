"""A speed profile changes how fast a picture is made, never which picture: the default profile gives
plain diffusers' picture within a level or two. (The fast profile compiles the UNet, too slow for the
suite on a CPU: bench/gpu.py measures it and checks its pictures.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import StableDiffusionPipeline

from sfumato.core.api import BadInput
from sfumato.core.models.acceleration import accelerate, check_speed


def picture(pipe: StableDiffusionPipeline) -> np.ndarray:
    generator = torch.Generator("cpu").manual_seed(3)
    result = pipe(
        "a green hill", num_inference_steps=3, height=64, width=64, generator=generator, output_type="np"
    )
    return np.asarray(result.images[0] * 255).round().astype(int)


def test_the_default_profile_gives_plain_diffusers_picture(tiny_model_dir: Path) -> None:
    plain = StableDiffusionPipeline.from_pretrained(tiny_model_dir, safety_checker=None)
    plain.set_progress_bar_config(disable=True)
    expected = picture(plain)
    accelerate(plain.components, torch.device("cpu"), "default")
    assert plain.unet.conv_in.weight.is_contiguous(memory_format=torch.channels_last)
    assert {type(p).__name__ for p in plain.unet.attn_processors.values()} == {"AttnProcessor2_0"}
    assert np.abs(picture(plain) - expected).max() <= 2


def test_an_unknown_speed_profile_is_refused_in_plain_words() -> None:
    with pytest.raises(BadInput, match="Choose one of: default, fast"):
        check_speed("turbo")


@pytest.mark.parametrize(("speed", "told"), [("fast", True), ("default", False)])
def test_the_fast_profile_says_when_it_optimises_the_model_for_a_new_size(
    tiny_model_dir: Path, speed: str, told: bool
) -> None:
    from sfumato.core.api import Cancelled, MemoryTierUsed, Optimising, Txt2Img
    from sfumato.core.devices import pick_device
    from sfumato.core.worker import OPTIMISING_MESSAGE, Worker

    job = Txt2Img(model=str(tiny_model_dir), prompt="a green hill", steps=2, width=64, height=64, seed=1)
    events: list[object] = []
    # Cancelled before its first step, so before compiling, which on a CPU is too slow for the suite.
    Worker(pick_device("cpu"), speed=speed).run(
        "job", job, events.append, lambda: any(isinstance(e, MemoryTierUsed) for e in events)
    )
    notes = [event.message for event in events if isinstance(event, Optimising)]
    assert notes == ([OPTIMISING_MESSAGE] if told else [])
    assert (
        OPTIMISING_MESSAGE.startswith("Optimising the model for this GPU")
        and "first time only" in OPTIMISING_MESSAGE
    )
    assert isinstance(events[-1], Cancelled)
