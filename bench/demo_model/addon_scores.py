"""Scores of the demo model's shipped add-ons, run through the regular engine with prompts as an
artist writes them: `a small red bar in the top left on a blue background <lora:demo-bar:1>`
and `a sfumato-emblem`.

The evaluator tells all the shapes apart here, so a LoRA that is not applied (the bare model draws a
square, a circle or a triangle for "bar") is caught, and so is one that leaks into the next job
or does something at weight 0 (the pixels must equal the bare model's exactly).
"""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np

from bench.demo_model.addons import (
    ALL_SHAPES,
    EMBEDDING_NAME,
    EMBLEM,
    embedding_prompt,
    lora_scenes,
    with_lora,
)
from bench.demo_model.evaluate import judge
from bench.demo_model.harness import SCENE_CHECKS, SIZE, Case, Score, Settings, txt2img_job
from bench.demo_model.scenes import Scene, caption
from sfumato.core.api import Txt2Img
from sfumato.core.engine import Engine


def lora_evaluation_scenes(count: int, seed: int = 0) -> list[Scene]:
    """`count` scenes of the LoRA's shape whose combination the LoRA never saw in training, a fixed sample."""
    held_out = lora_scenes(held_out=True)
    random.Random(seed).shuffle(held_out)
    return held_out[:count]


async def _image(engine: Engine, job: Txt2Img) -> np.ndarray:
    return (await engine.run(job)).images[0]


def lora_job(scene: Scene, settings: Settings, index: int, weights: str = "1") -> Txt2Img:
    """The scene's caption with the LoRA at `weights` (`1`, `0.5`, or A1111's `TE:UNET`)."""
    job = txt2img_job(scene, settings, index)
    return replace(job, prompt=with_lora(caption(scene, index), weights))


async def lora_score(
    engine: Engine, settings: Settings, scenes: list[Scene], weights: str = "1", name: str = "bars"
) -> Score:
    """Held-out bar prompts (or any `scenes`) with the LoRA: background, colour, kind, size and
    position all right."""
    cases = []
    for index, scene in enumerate(scenes):
        job = lora_job(scene, settings, index, weights)
        image = await _image(engine, job)
        cases.append(Case(job.prompt, tuple(judge(image, scene, ALL_SHAPES).wrong()), images=(image,)))
    return Score(f"{name} with lora at {weights}", tuple(cases), SCENE_CHECKS)


async def lora_off_score(engine: Engine, settings: Settings, scenes: list[Scene]) -> Score:
    """The bare model's pixels, exactly, at weight 0 and in the job right after one with the LoRA."""
    cases = []
    for index, scene in enumerate(scenes):
        bare_job = txt2img_job(scene, settings, index)
        bare = await _image(engine, bare_job)
        at_zero = await _image(engine, lora_job(scene, settings, index, "0"))
        with_it = await _image(engine, lora_job(scene, settings, index))
        after = await _image(engine, bare_job)
        problems = (
            *(("weight_zero",) if not np.array_equal(at_zero, bare) else ()),
            *(("next_job",) if not np.array_equal(after, bare) else ()),
        )
        cases.append(Case(bare_job.prompt, problems, images=(bare, with_it, after)))
    return Score("lora off", tuple(cases), ("weight_zero", "next_job"))


async def embedding_score(
    engine: Engine, settings: Settings, count: int, name: str = EMBEDDING_NAME
) -> Score:
    """Prompts that use the embedding's name: the scene it stands for, all of it right. Another `name`
    shows what the prompts draw without the embedding."""
    cases = []
    for index in range(count):
        job = Txt2Img(
            model=settings.model, prompt=embedding_prompt(index, name), sampler=settings.sampler,
            steps=settings.steps, cfg=settings.cfg, seed=settings.seed + index, width=SIZE, height=SIZE,
        )  # fmt: skip
        image = await _image(engine, job)
        cases.append(Case(job.prompt, tuple(judge(image, EMBLEM, ALL_SHAPES).wrong()), images=(image,)))
    return Score("embedding", tuple(cases), SCENE_CHECKS)
