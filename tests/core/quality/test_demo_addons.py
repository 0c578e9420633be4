"""The add-ons shipped with the demo model work through the engine as an artist writes them: the
LoRA draws a shape the bare model cannot (all of it, its UNet part included), leaves no trace at
weight 0 or in the next job, and the embedding's name draws its scene.

A few held-out prompts at few steps keep this fast; `bench/quality.py` runs the full scores.
"""

from __future__ import annotations

from bench.demo_model.addon_scores import embedding_score, lora_evaluation_scenes, lora_off_score, lora_score
from bench.demo_model.addons import EMBEDDING_NAME, LORA_NAME
from bench.demo_model.harness import Settings
from sfumato.core.demo import DEMO_MODEL_ID
from sfumato.core.engine import Engine
from sfumato.core.models.addon_library import demo_addons_dir

SETTINGS = Settings(model=DEMO_MODEL_ID, steps=16, seed=4242)
# The bare model draws none of these bars.
BARS = lora_evaluation_scenes(12, seed=7)


def test_the_add_ons_ship_small_in_safetensors() -> None:
    files = [path for path in demo_addons_dir().rglob("*.safetensors")]
    assert {path.relative_to(demo_addons_dir()).as_posix() for path in files} == {
        f"loras/{LORA_NAME}.safetensors",
        f"embeddings/{EMBEDDING_NAME}.safetensors",
    }
    assert sum(path.stat().st_size for path in files) <= 2 * 2**20


async def test_the_lora_draws_bars_only_when_its_unet_part_is_applied(engine: Engine) -> None:
    applied = await lora_score(engine, SETTINGS, BARS)
    assert applied.rate >= 1 / 3, [(case.prompt, case.describe()) for case in applied.cases]
    # Without the LoRA, or with its text-encoder part alone (A1111's `TE:UNET` weights), the model
    # knows no bars.
    for weights in ("0", "1:0"):
        missing = await lora_score(engine, SETTINGS, BARS, weights)
        assert missing.rate_without("shape") == 0.0, [case.describe() for case in missing.cases]


async def test_the_lora_leaves_no_trace_at_weight_zero_or_in_the_next_job(engine: Engine) -> None:
    score = await lora_off_score(engine, SETTINGS, BARS[:1])
    assert score.rate == 1.0, [case.describe() for case in score.cases]
    bare, with_lora, _after = score.cases[0].images
    assert (bare != with_lora).any()


async def test_the_embedding_name_draws_its_scene(engine: Engine) -> None:
    score = await embedding_score(engine, SETTINGS, 3)
    assert score.rate >= 2 / 3, [(case.prompt, case.describe()) for case in score.cases]
    # One letter more and it is no embedding's name: CLIP reads the letters, and the scene is not drawn.
    unknown = await embedding_score(engine, SETTINGS, 3, EMBEDDING_NAME + "x")
    assert unknown.rate == 0.0, [(case.prompt, case.describe()) for case in unknown.cases]
