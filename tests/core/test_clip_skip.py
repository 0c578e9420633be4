"""Clip skip (AUTOMATIC1111's "Clip skip") in the engine: it changes the image, its recipe makes it again,
and a value outside 1 to 12 fails the job in plain words. Its encoding is tested in test_prompts.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sfumato.core.api import ErrorKind, Failed, Finished, Txt2Img, request_values
from sfumato.core.engine import Engine
from sfumato.core.metadata import format_parameters, parse_parameters
from tests.core.engine_helpers import run_events, terminal


def tiny_job(model_dir: Path, **overrides: Any) -> Txt2Img:
    settings: dict[str, Any] = dict(
        model=str(model_dir), prompt="a red circle", steps=3, width=64, height=64, seed=7
    )
    return Txt2Img(**settings | overrides)


async def test_clip_skip_changes_the_image_and_its_recipe_makes_it_again(
    engine: Engine, tiny_model_dir: Path
) -> None:
    default = terminal(await run_events(engine, tiny_job(tiny_model_dir)))
    skip_1 = terminal(await run_events(engine, tiny_job(tiny_model_dir, clip_skip=1)))
    skip_2 = terminal(await run_events(engine, tiny_job(tiny_model_dir, clip_skip=2)))
    assert isinstance(default, Finished) and isinstance(skip_1, Finished) and isinstance(skip_2, Finished)

    assert np.array_equal(skip_1.images[0], default.images[0])
    assert not np.array_equal(skip_2.images[0], skip_1.images[0])
    recipe = skip_2.recipes[0]
    assert recipe.clip_skip == 2 and default.recipes[0].clip_skip == 1
    text = format_parameters(recipe)
    assert "Clip skip: 2" in text

    read = parse_parameters(text)
    again = Txt2Img(**request_values(read), model=str(tiny_model_dir))
    remade = terminal(await run_events(engine, again))
    assert isinstance(remade, Finished) and np.array_equal(remade.images[0], skip_2.images[0])


@pytest.mark.parametrize("clip_skip", [0, 13])
async def test_clip_skip_outside_1_to_12_fails_the_job_with_a_plain_message(
    engine: Engine, tiny_model_dir: Path, clip_skip: int
) -> None:
    failed = terminal(await run_events(engine, tiny_job(tiny_model_dir, clip_skip=clip_skip)))

    assert isinstance(failed, Failed) and failed.kind is ErrorKind.BAD_INPUT
    assert failed.message == f"Clip skip must be between 1 and 12; got {clip_skip}."
