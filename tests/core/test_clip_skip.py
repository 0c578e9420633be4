"""Clip skip (AUTOMATIC1111's "Clip skip"): conditioning on an earlier layer of the text encoder."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from transformers import CLIPTextModel, CLIPTokenizer

from sfumato.core.api import BadInput, ErrorKind, Failed, Finished, Txt2Img, request_values
from sfumato.core.engine import Engine
from sfumato.core.metadata import format_parameters, parse_parameters
from sfumato.core.prompts import encode_prompts
from tests.core.engine_helpers import run_events, terminal

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path) -> CLIPTokenizer:
    return CLIPTokenizer.from_pretrained(tiny_model_dir / "tokenizer")


@pytest.fixture(scope="module")
def text_encoder(tiny_model_dir: Path) -> CLIPTextModel:
    return CLIPTextModel.from_pretrained(tiny_model_dir / "text_encoder").eval()


def without_last_layers(text_encoder: CLIPTextModel, count: int) -> CLIPTextModel:
    """The encoder cut short: what clip skip `count + 1` conditions on, by definition (A1111's)."""
    cut = copy.deepcopy(text_encoder)
    encoder = getattr(cut, "text_model", cut).encoder
    encoder.layers = encoder.layers[:-count]
    return cut


def test_clip_skip_conditions_on_an_earlier_layer_through_the_final_norm(
    tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel
) -> None:
    prompt, negative = "a red (cat:1.2) on the sea", "blurry, dark"
    shortened = without_last_layers(text_encoder, 1)

    skip_1 = encode_prompts(tokenizer, text_encoder, prompt, negative, CPU, torch.float32, clip_skip=1)
    skip_2 = encode_prompts(tokenizer, text_encoder, prompt, negative, CPU, torch.float32, clip_skip=2)
    today = encode_prompts(tokenizer, text_encoder, prompt, negative, CPU, torch.float32)
    cut_short = encode_prompts(tokenizer, shortened, prompt, negative, CPU, torch.float32)

    assert torch.equal(skip_1[0], today[0]) and torch.equal(skip_1[1], today[1])
    assert torch.allclose(skip_2[0], cut_short[0], atol=1e-6)
    assert torch.allclose(skip_2[1], cut_short[1], atol=1e-6)  # the negative prompt too, as in A1111
    assert not torch.allclose(skip_2[0], skip_1[0], atol=1e-3)


def test_clip_skip_beyond_the_encoders_layers_is_refused_in_plain_words(
    tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel
) -> None:
    with pytest.raises(BadInput, match="has only 2 layers; use at most 2"):
        encode_prompts(tokenizer, text_encoder, "a cat", "", CPU, torch.float32, clip_skip=3)


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
