"""The demo model loads through the regular engine and follows what it has learned of its prompts,
and the quality harness catches broken generation: an inverted inpainting mask, a scheduler with
the wrong timesteps.

A small sample of held-out prompts (combinations never captioned in training) keeps
this fast; `bench/quality.py` runs the full scores and prints them in the README.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from bench.demo_model.harness import (
    Settings,
    evaluation_scenes,
    inpaint_score,
    outpaint_score,
    txt2img_score,
    zoom_out_score,
)
from sfumato.core.api import Inpaint, Job
from sfumato.core.demo import DEMO_MODEL_ID, demo_model_dir
from sfumato.core.engine import Engine

STEPS = 20
SCENES = evaluation_scenes(24, seed=7)


def settings(model: str = DEMO_MODEL_ID) -> Settings:
    return Settings(model=model, steps=STEPS, seed=4242)


def test_the_demo_model_ships_small_in_safetensors() -> None:
    folder = demo_model_dir()
    files = [path for path in folder.rglob("*") if path.is_file() and "gallery" not in path.parts]
    weights = [path for path in files if path.suffix == ".safetensors"]
    assert {path.parent.name for path in weights} == {"unet", "vae", "text_encoder"}
    assert not [path for path in files if path.suffix in (".bin", ".ckpt", ".pt", ".pth")]
    assert sum(path.stat().st_size for path in files) <= 30 * 2**20
    assert (folder / "tokenizer" / "tokenizer.json").is_file()


async def test_held_out_prompts_get_their_colours_shape_size_and_place(engine: Engine) -> None:
    score = await txt2img_score(engine, settings(), SCENES[:8])
    rates = score.check_rates()
    assert score.rate >= 0.75, rates
    assert rates["background"] >= 0.9 and rates["colour"] >= 0.8, rates
    assert rates["shape"] >= 0.75 and rates["position"] >= 0.75, rates
    assert all(case.images[0].shape == (64, 64, 3) for case in score.cases)


async def test_inpainting_leaves_the_outside_alone_and_an_inverted_mask_is_caught(engine: Engine) -> None:
    def inverted(job: Job) -> Job:
        assert isinstance(job, Inpaint)
        return replace(job, mask=255 - job.mask)

    scenes = SCENES[8:12]
    right = await inpaint_score(engine, settings(), scenes)
    wrong = await inpaint_score(engine, settings(), scenes, tamper=inverted)
    assert right.rate_without("outside") == 1.0 and right.rate_without("background") == 1.0
    assert wrong.rate_without("outside") == 0.0 and wrong.rate == 0.0


async def test_outpainting_continues_the_background_without_a_seam(engine: Engine) -> None:
    score = await outpaint_score(engine, settings(), SCENES[12:18])
    assert score.rate_without("background") == 1.0 and score.rate_without("seam") == 1.0
    assert score.rate >= 4 / 6, [(case.prompt, case.detail) for case in score.failures()]


async def test_zooming_out_keeps_the_background_in_every_keyframe(engine: Engine) -> None:
    score = await zoom_out_score(engine, settings(), SCENES[18:21])
    assert score.rate_without("background") == 1.0 and score.rate_without("coherence") == 1.0
    assert all(len(case.images) == 4 for case in score.cases)


async def test_a_scheduler_with_the_wrong_timesteps_is_caught(engine: Engine, tmp_path: Path) -> None:
    # The same weights and noise levels with the timestep labels of a 200-step schedule: the model
    # is told every noisy picture is nearly clean.
    broken = tmp_path / "demo-wrong-timesteps"
    shutil.copytree(demo_model_dir(), broken, ignore=shutil.ignore_patterns("gallery"))
    config_path = broken / "scheduler" / "scheduler_config.json"
    config = json.loads(config_path.read_text())
    config.update(num_train_timesteps=200)
    config_path.write_text(json.dumps(config))

    right = await txt2img_score(engine, settings(), SCENES[:8])
    wrong = await txt2img_score(engine, settings(str(broken)), SCENES[:8])
    assert right.rate >= 0.6, right.check_rates()
    assert wrong.rate <= 0.25, wrong.check_rates()
