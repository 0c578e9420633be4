"""LoRAs and embeddings named in prompts, through the engine as the studio and the CLI use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from sfumato.core.api import Failed, Finished, LoadingModel, Txt2Img
from sfumato.core.engine import Engine
from sfumato.core.models.convert import import_legacy
from sfumato.core.models.imports import import_embedding, import_lora
from tests.core.engine_helpers import run_events, run_to_finish, terminal
from tests.support.tiny_addons import embedding_of_words, kohya_lora, peft_lora


@pytest.fixture(scope="session")
def kohya_file(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return kohya_lora(tiny_model_dir, tmp_path_factory.mktemp("loras") / "tiny-locon.safetensors")


@pytest.fixture(scope="session")
def peft_file(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return peft_lora(tiny_model_dir, tmp_path_factory.mktemp("loras") / "tiny-peft.safetensors")


@pytest.fixture(scope="session")
def red_circle_file(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("embeddings") / "redcircle.safetensors"
    return embedding_of_words(tiny_model_dir, "red circle", out)


def job(model_dir: Path, prompt: str, **overrides: Any) -> Txt2Img:
    settings: dict[str, Any] = dict(model=str(model_dir), prompt=prompt, steps=2, width=64, height=64, seed=3)
    return Txt2Img(**settings | overrides)


async def pixels(engine: Engine, model_dir: Path, prompt: str, **overrides: Any) -> np.ndarray:
    finished = await run_to_finish(engine, job(model_dir, prompt, **overrides))
    return finished.images[0]


async def test_lora_weight_changes_pixels_without_reloading_and_leaves_nothing_behind(
    engine: Engine, tiny_model_dir: Path, kohya_file: Path
) -> None:
    import_lora(kohya_file)
    bare = await pixels(engine, tiny_model_dir, "a red circle")
    full = await pixels(engine, tiny_model_dir, "a red circle <lora:tiny-locon:1>")
    assert not np.array_equal(full, bare)

    events = await run_events(engine, job(tiny_model_dir, "a red circle <lora:tiny-locon:0.5>"))
    half = terminal(events)
    assert isinstance(half, Finished)
    assert not any(isinstance(event, LoadingModel) for event in events), "a new weight reloaded the model"
    assert not np.array_equal(half.images[0], full) and not np.array_equal(half.images[0], bare)

    zero = await pixels(engine, tiny_model_dir, "a red circle <lora:tiny-locon:0>")
    np.testing.assert_array_equal(zero, bare)
    after = await pixels(engine, tiny_model_dir, "a red circle")
    np.testing.assert_array_equal(after, bare)


async def test_peft_lora_on_text_encoder_only_and_on_unet_only_differ(
    engine: Engine, tiny_model_dir: Path, peft_file: Path
) -> None:
    import_lora(peft_file)
    bare = await pixels(engine, tiny_model_dir, "a red circle")
    text_only = await pixels(engine, tiny_model_dir, "a red circle <lora:tiny-peft:1:0>")
    unet_only = await pixels(engine, tiny_model_dir, "a red circle <lora:tiny-peft:0:1>")
    in_negative = await pixels(engine, tiny_model_dir, "a red circle", negative="<lora:tiny-peft:0:1>")
    assert not np.array_equal(text_only, bare)
    assert not np.array_equal(unet_only, bare)
    assert not np.array_equal(text_only, unet_only)
    np.testing.assert_array_equal(in_negative, unet_only)  # a negative prompt's LoRA applies as well


async def test_embedding_conditions_exactly_as_its_vectors_say(
    engine: Engine, tiny_model_dir: Path, red_circle_file: Path
) -> None:
    import_embedding(red_circle_file)
    for written, spelled in [
        ("a redcircle", "a red circle"),
        ("(a RedCircle:1.3), sky", "(a red circle:1.3), sky"),
    ]:
        for clip_skip in (1, 2):
            used = await pixels(engine, tiny_model_dir, written, clip_skip=clip_skip)
            expected = await pixels(engine, tiny_model_dir, spelled, clip_skip=clip_skip)
            np.testing.assert_array_equal(used, expected)
    negative = await pixels(engine, tiny_model_dir, "a cat", negative="redcircle")
    spelled_out = await pixels(engine, tiny_model_dir, "a cat", negative="red circle")
    np.testing.assert_array_equal(negative, spelled_out)
    bare = await pixels(engine, tiny_model_dir, "a redcircles")  # not the name as a word of its own
    assert not np.array_equal(bare, await pixels(engine, tiny_model_dir, "a red circles"))


async def test_a_pt_embedding_works_once_converted_in_isolation(
    engine: Engine, tiny_model_dir: Path, red_circle_file: Path, tmp_path: Path
) -> None:
    vectors = load_file(red_circle_file)["emb_params"]
    original = tmp_path / "oldcircle.pt"
    torch.save({"string_to_param": {"*": vectors}, "name": "oldcircle"}, original)
    import_legacy(original)
    used = await pixels(engine, tiny_model_dir, "a oldcircle, sky")
    np.testing.assert_array_equal(used, await pixels(engine, tiny_model_dir, "a red circle, sky"))


async def test_recipe_keeps_the_syntax_and_records_hashes_as_automatic1111(
    engine: Engine, tiny_model_dir: Path, kohya_file: Path, red_circle_file: Path
) -> None:
    import_lora(kohya_file)
    embedding = import_embedding(red_circle_file)
    prompt = "a redcircle <lora:tiny-locon:0.7>"
    finished = await run_to_finish(engine, job(tiny_model_dir, prompt))
    recipe = finished.recipes[0]
    assert recipe.prompt == prompt
    lora_hashes = recipe.extras["Lora hashes"]
    assert lora_hashes.startswith("tiny-locon: ") and len(lora_hashes.split(": ")[1]) == 12
    assert recipe.extras["TI hashes"] == f"redcircle: {embedding.sha256[:12]}"


async def test_unknown_lora_fails_before_the_model_loads(engine: Engine, tiny_model_dir: Path) -> None:
    events = await run_events(engine, job(tiny_model_dir, "a cat <lora:nowhere:0.8>"))
    failed = terminal(events)
    assert isinstance(failed, Failed) and 'No LoRA is called "nowhere"' in failed.message
    assert not any(isinstance(event, LoadingModel) for event in events)
