"""Prompt morphs, run by the morph task on the tiny model: frames that start and end on the
prompts' own images and pass between them in small steps."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from sfumato.core.api import BadInput, Txt2Img
from sfumato.core.devices import pick_device
from sfumato.core.models.loader import ModelCache
from sfumato.core.morph_api import Morph
from sfumato.core.tasks import morph, txt2img
from sfumato.core.tasks.common import JobCancelled, StepProgress, TaskContext

PROMPTS = ("a red circle", "a blue square", "a green tree")


@pytest.fixture(scope="module")
def context(tiny_model_dir: Path) -> TaskContext:
    device = pick_device("cpu")
    model = ModelCache(device).get(str(tiny_model_dir))
    return TaskContext(model, device, lambda *_: None, lambda: False, preview_every=0)


def morph_job(model: Path, **overrides: Any) -> Morph:
    settings: dict[str, Any] = dict(
        model=str(model), prompt=" | ".join(PROMPTS), steps=3, width=64, height=64, seed=5, frames=3
    )
    settings.update(overrides)
    return Morph(**settings)


def txt2img_image(context: TaskContext, model: Path, prompt: str, seed: int, sampler: str) -> np.ndarray:
    job = Txt2Img(model=str(model), prompt=prompt, seed=seed, steps=3, width=64, height=64, sampler=sampler)
    return txt2img.run(job, context)[0].image


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


def test_a_morph_passes_through_every_prompt_with_recipes(context: TaskContext, tiny_model_dir: Path) -> None:
    outputs = morph.run(morph_job(tiny_model_dir), context)

    assert len(outputs) == 2 * 3 + 1
    assert all(output.image.shape == (64, 64, 3) for output in outputs)
    assert [o.recipe.prompt for o in outputs] == [PROMPTS[0]] * 3 + [PROMPTS[1]] * 3 + [PROMPTS[2]]
    assert outputs[4].recipe.extras["Morph to"] == PROMPTS[2]
    assert outputs[4].recipe.extras["Morph frame"] == "5/7"


def test_with_one_seed_the_ends_are_the_prompts_own_images(
    context: TaskContext, tiny_model_dir: Path
) -> None:
    outputs = morph.run(morph_job(tiny_model_dir, sampler="Euler a"), context)
    first = txt2img_image(context, tiny_model_dir, PROMPTS[0], 5, "Euler a")
    last = txt2img_image(context, tiny_model_dir, PROMPTS[2], 5, "Euler a")
    assert np.array_equal(outputs[0].image, first)
    assert np.array_equal(outputs[3].image, txt2img_image(context, tiny_model_dir, PROMPTS[1], 5, "Euler a"))
    assert np.array_equal(outputs[-1].image, last)


def test_a_seed_gives_the_same_morph_again_with_a_sampler_seeding_its_own_noise(
    context: TaskContext, tiny_model_dir: Path
) -> None:
    # DPM++ SDE draws the noise it adds from the seed itself, not from the generator.
    prompt = f"{PROMPTS[0]} | {PROMPTS[1]}"
    job = morph_job(tiny_model_dir, prompt=prompt, seeds=(4, 8), frames=1, sampler="DPM++ SDE Karras")
    first, again = morph.run(job, context), morph.run(job, context)
    assert all(np.array_equal(a.image, b.image) for a, b in zip(first, again, strict=True))
    assert np.array_equal(
        first[0].image, txt2img_image(context, tiny_model_dir, PROMPTS[0], 4, "DPM++ SDE Karras")
    )


def test_with_seeds_the_noise_morphs_too_and_frames_change_in_small_steps(
    context: TaskContext, tiny_model_dir: Path
) -> None:
    # A sampler without added noise, so every end is exactly the text-to-image of its seed.
    outputs = morph.run(morph_job(tiny_model_dir, seeds=(1, 2, 3), sampler="Euler", frames=4), context)
    images = [output.image for output in outputs]
    ends = [
        txt2img_image(context, tiny_model_dir, prompt, seed, "Euler")
        for prompt, seed in zip(PROMPTS, (1, 2, 3), strict=True)
    ]
    assert all(np.array_equal(images[4 * index], end) for index, end in enumerate(ends))
    assert [o.recipe.seed for o in outputs[::4]] == [1, 2, 3]

    for start, end in itertools.pairwise(range(0, 9, 4)):
        whole_way = mean_difference(images[start], images[end])
        steps = [mean_difference(a, b) for a, b in itertools.pairwise(images[start : end + 1])]
        # Four frames share the way between two prompts; no step may take most of it at once.
        assert max(steps) < 0.6 * whole_way


def test_slerp_keeps_noise_as_strong_as_noise_all_the_way() -> None:
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(1, 4, 32, 32, generator=generator), torch.randn(1, 4, 32, 32, generator=generator)
    assert torch.equal(morph.slerp(a, b, 0.0), a) and torch.equal(morph.slerp(a, b, 1.0), b)
    for t in (0.25, 0.5, 0.75):
        # Independent noises are nearly orthogonal: a straight blend would be ~30 % weaker midway.
        assert float(morph.slerp(a, b, t).std()) == pytest.approx(float(a.std()), rel=0.05)


def test_a_cancelled_morph_stops_within_a_step(context: TaskContext, tiny_model_dir: Path) -> None:
    steps: list[tuple[int, int]] = []

    def on_step(progress: StepProgress) -> None:
        steps.append((progress.image, progress.step))

    cancelling = TaskContext(context.model, context.device, on_step, lambda: len(steps) >= 4, 0)
    with pytest.raises(JobCancelled):
        morph.run(morph_job(tiny_model_dir), cancelling)
    assert steps == [(0, 1), (0, 2), (0, 3), (1, 1)]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prompt": "a cat"}, "at least two prompts"),
        ({"prompt": "a cat || a dog"}, "Prompt 2 of the morph is empty"),
        ({"seeds": (1, 2)}, "one seed per prompt"),
        ({"frames": 0}, "Frames per transition"),
        ({"batch": 2}, "batch"),
    ],
)
def test_morphs_that_cannot_be_made_are_refused(
    context: TaskContext, tiny_model_dir: Path, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadInput, match=message):
        morph.run(morph_job(tiny_model_dir, **overrides), context)
