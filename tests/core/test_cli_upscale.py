"""`sfumato upscale` as an artist runs it: a bigger PNG that keeps the picture's recipe and says how
it was enlarged, optionally redrawn by the demo model without losing what the picture shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.demo_model.evaluate import judge
from bench.demo_model.harness import evaluation_scenes
from bench.demo_model.scenes import caption, render
from sfumato.core.api import Mode, Recipe
from sfumato.core.cli import main
from sfumato.core.demo import DEMO_MODEL_ID
from sfumato.core.imaging import load_image, resize
from sfumato.core.metadata import read_recipe, save_png
from tests.support.tiny_upscalers import save_weights, tiny_compact

RECIPE = Recipe(
    prompt="a lighthouse at dusk", negative="blurry", steps=30, seed=1234, width=32, height=24,
    model="demo", mode=Mode.TXT2IMG, extras={"Lora hashes": '"gloom: 0123abcd"'},
)  # fmt: skip


@pytest.fixture(autouse=True)
def _engine_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFUMATO_IN_PROCESS", "1")


def picture_with_recipe(path: Path) -> Path:
    pixels = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    save_png(path, pixels, RECIPE)
    return path


def test_upscaling_keeps_the_recipe_and_adds_the_upscale_keys(tmp_path: Path) -> None:
    source = picture_with_recipe(tmp_path / "small.png")
    out = tmp_path / "big.png"
    assert main(["upscale", str(source), "--factor", "2", "--out", str(out)]) == 0
    with Image.open(out) as written:
        assert written.size == (64, 48)
    recipe = read_recipe(out)
    assert recipe is not None
    assert (recipe.prompt, recipe.negative, recipe.seed, recipe.steps) == (
        "a lighthouse at dusk",
        "blurry",
        1234,
        30,
    )
    # The size it was made at, as A1111's Extras keep it; the enlargement is in the postprocess keys.
    assert (recipe.width, recipe.height, recipe.mode) == (32, 24, Mode.TXT2IMG)
    assert recipe.extras["Lora hashes"] == '"gloom: 0123abcd"'
    assert recipe.extras["Postprocess upscale by"] == "2"
    assert recipe.extras["Postprocess upscaler"] == "Lanczos"


def test_an_upscaler_model_file_enlarges_four_times(tmp_path: Path) -> None:
    source = picture_with_recipe(tmp_path / "small.png")
    model = save_weights(tiny_compact(scale=4).state_dict(), tmp_path / "realesr-general-x4v3.safetensors")
    out = tmp_path / "big.png"
    assert main(["upscale", str(source), "--factor", "4", "--upscaler", str(model), "--out", str(out)]) == 0
    assert load_image(out).shape == (96, 128, 3)
    recipe = read_recipe(out)
    assert recipe is not None and recipe.extras["Postprocess upscaler"] == "realesr-general-x4v3"
    assert recipe.extras["Postprocess upscale by"] == "4"


def test_refining_with_the_demo_model_keeps_what_the_picture_shows(tmp_path: Path) -> None:
    for index, scene in enumerate(evaluation_scenes(2, seed=11)):
        source = tmp_path / f"scene-{index}.png"
        prompt = caption(scene, index)
        save_png(
            source, render(scene), Recipe(prompt=prompt, seed=50 + index, width=64, height=64, model="demo")
        )
        out = tmp_path / f"big-{index}.png"
        argv = ["upscale", str(source), "--factor", "2", "--refine", "0.35", "--model", DEMO_MODEL_ID]
        assert main([*argv, "--steps", "12", "--out", str(out)]) == 0
        image = load_image(out)
        assert image.shape == (128, 128, 3)
        assert judge(resize(image, (64, 64)), scene).wrong() == [], prompt
        recipe = read_recipe(out)
        assert recipe is not None
        assert (recipe.prompt, recipe.mode, recipe.strength) == (prompt, Mode.IMG2IMG, 0.35)
        assert recipe.extras["Postprocess upscale by"] == "2"


def test_upscale_mistakes_are_one_plain_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bare = tmp_path / "bare.png"
    Image.new("RGB", (16, 16), "white").save(bare)
    assert (
        main(["upscale", str(bare), "--factor", "2", "--refine", "0.3", "--out", str(tmp_path / "o.png")])
        == 2
    )
    assert "--refine needs --model" in capsys.readouterr().err
    argv = [
        "upscale",
        str(bare),
        "--factor",
        "2",
        "--upscaler",
        "nowhere-x4",
        "--out",
        str(tmp_path / "o.png"),
    ]
    assert main(argv) == 2
    assert "There is no upscaler 'nowhere-x4'" in capsys.readouterr().err
    assert main(["upscale", str(bare), "--factor", "3", "--out", str(tmp_path / "o.png")]) == 2
