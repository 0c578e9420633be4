"""Recipes reused from the command line (`generate --recipe`, `sfumato recipe`), and `generate` with
nothing but a prompt on a first run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.demo_model.evaluate import judge
from sfumato.core.api import Mode, Recipe
from sfumato.core.demo import DEMO_MODEL_ID
from sfumato.core.metadata import read_recipe, save_png
from sfumato.core.models.imports import import_lora
from tests.core.test_cli import _engine_in_process, run_cli  # noqa: F401  (the fixture runs here too)
from tests.support.tiny_addons import peft_lora

PROMPT = "a red circle on a blue background"


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def recipe_png(path: Path, recipe: Recipe) -> Path:
    save_png(path, np.full((8, 8, 3), 90, np.uint8), recipe)
    return path


def test_a_prompt_alone_on_a_first_run_draws_it_with_the_demo_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "generate", "--prompt", PROMPT)
    assert code == 0, err
    (written,) = tmp_path.glob("sfumato-*.png")
    assert Path(out.strip()).name == written.name
    recipe = read_recipe(written)
    assert recipe is not None
    assert (recipe.model, recipe.width, recipe.height, recipe.cfg) == (DEMO_MODEL_ID, 64, 64, 2.0)
    verdict = judge(pixels(written), PROMPT)
    assert verdict.correct, f"the picture is wrong: {verdict.wrong()}"


def test_options_given_win_over_the_models_defaults_even_when_equal_to_the_declared_ones(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "out.png"
    code, _, err = run_cli(
        capsys,
        "generate",
        "--prompt",
        PROMPT,
        "--cfg",
        "7",
        "--steps",
        "2",
        "--width",
        "72",
        "--out",
        str(out),
    )
    assert code == 0, err
    recipe = read_recipe(out)
    assert recipe is not None and (recipe.cfg, recipe.steps, recipe.width) == (7.0, 2, 72)


def test_the_last_model_used_is_used_again_without_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_dir: Path
) -> None:
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    assert run_cli(capsys, "generate", "--model", str(tiny_model_dir), "--prompt", "x", "--steps", "1",
                   "--out", str(first))[0] == 0  # fmt: skip
    assert run_cli(capsys, "generate", "--prompt", "x", "--steps", "1", "--out", str(second))[0] == 0
    made, again = read_recipe(first), read_recipe(second)
    assert made is not None and again is not None
    assert again.model == made.model and again.model_hash == made.model_hash


def test_a_recipe_makes_the_same_image_again_and_options_change_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    original, again, changed = tmp_path / "original.png", tmp_path / "again.png", tmp_path / "changed.png"
    prompt = "a small green square on a white background"
    code, _, err = run_cli(
        capsys,
        "generate",
        "--model",
        "demo",
        "--prompt",
        prompt,
        "--steps",
        "4",
        "--seed",
        "5",
        "--out",
        str(original),
    )
    assert code == 0, err
    assert run_cli(capsys, "generate", "--recipe", str(original), "--out", str(again))[0] == 0
    assert np.array_equal(pixels(original), pixels(again))
    assert read_recipe(again) == read_recipe(original)

    assert (
        run_cli(capsys, "generate", "--recipe", str(original), "--seed", "6", "--out", str(changed))[0] == 0
    )
    remade, made = read_recipe(changed), read_recipe(original)
    assert remade is not None and made is not None
    assert (remade.seed, remade.steps, remade.prompt) == (6, 4, made.prompt)
    assert not np.array_equal(pixels(original), pixels(changed))


def test_an_automatic1111_recipe_naming_a_model_not_installed_says_which(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    png = tmp_path / "a1111.png"
    text = (
        "masterpiece, a castle\nNegative prompt: blurry\nSteps: 28, Sampler: DPM++ 2M, Schedule type: "
        "Karras, CFG scale: 7, Seed: 42, Size: 512x768, Model hash: 3a7b2c1d9e, Model: anything-v3-fp16"
    )
    Image.new("RGB", (8, 8)).save(png, pnginfo=_a1111_text(text))
    code, _, err = run_cli(capsys, "generate", "--recipe", str(png), "--out", str(tmp_path / "o.png"))
    assert code == 2
    assert "anything-v3-fp16" in err and "3a7b2c1d9e" in err and "not installed" in err
    assert err.count("\n") == 1


def test_a_recipe_using_a_lora_that_is_not_imported_names_it_before_anything_loads(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    png = recipe_png(tmp_path / "lora.png", Recipe(prompt="a red circle <lora:mystyle:0.8>", model="demo"))
    code, _, err = run_cli(capsys, "generate", "--recipe", str(png), "--out", str(tmp_path / "o.png"))
    assert code == 2 and "LoRA 'mystyle'" in err and "not installed" in err
    assert not (tmp_path / "o.png").exists()


def test_a_recipe_made_from_a_picture_asks_for_that_picture(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    png = recipe_png(
        tmp_path / "i2i.png", Recipe(prompt="a cat", model="demo", mode=Mode.IMG2IMG, strength=0.5)
    )
    code, _, err = run_cli(capsys, "generate", "--recipe", str(png), "--out", str(tmp_path / "o.png"))
    assert code == 2 and "img2img" in err and "--init" in err


def test_sfumato_recipe_prints_the_recipe_as_automatic1111_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    png = recipe_png(
        tmp_path / "made.png", Recipe(prompt="a lighthouse", negative="fog", seed=7, model="demo")
    )
    code, out, _ = run_cli(capsys, "recipe", str(png))
    assert code == 0
    assert out.splitlines()[:2] == ["a lighthouse", "Negative prompt: fog"]
    assert "Seed: 7" in out and "Model: demo" in out


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda path: Image.new("RGB", (4, 4)).save(path, format="PNG"), "carries no recipe"),
        (lambda path: Image.new("RGB", (4, 4)).save(path, format="JPEG"), "is a JPEG image, not a PNG"),
        (lambda path: path.write_text("hello"), "could not be read as a PNG"),
    ],
    ids=["plain PNG", "JPEG", "text file"],
)
def test_sfumato_recipe_explains_a_file_without_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make: object, words: str
) -> None:
    path = tmp_path / "picture.png"
    make(path)  # type: ignore[operator]
    code, out, err = run_cli(capsys, "recipe", str(path))
    assert code == 2 and out == ""
    assert words in err and err.startswith("sfumato: error:") and err.count("\n") == 1


def _a1111_text(text: str) -> object:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", text)
    return info


def test_a_recipe_using_an_embedding_that_is_not_imported_names_it_unless_the_prompt_drops_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    uses_embedding = {"TI hashes": "emblem-x: 1a2b3c"}
    recipe = Recipe(
        prompt="a red circle, emblem-x", model="demo", steps=1, width=64, height=64, extras=uses_embedding
    )
    png = recipe_png(tmp_path / "ti.png", recipe)
    code, _, err = run_cli(capsys, "generate", "--recipe", str(png), "--out", str(tmp_path / "o.png"))
    assert code == 2 and "embedding 'emblem-x'" in err
    code, _, err = run_cli(
        capsys, "generate", "--recipe", str(png), "--prompt", "a red circle", "--out", str(tmp_path / "o.png")
    )
    assert code == 0, err


def test_a_recipe_using_an_imported_lora_is_made_again_with_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_dir: Path
) -> None:
    imported = import_lora(peft_lora(tiny_model_dir, tmp_path / "ink.safetensors"))
    recipe = Recipe(prompt=f"a red circle <lora:{imported.name}:0.8>", model=str(tiny_model_dir), steps=2,
                    width=64, height=64, seed=3)  # fmt: skip
    png = recipe_png(tmp_path / "with-lora.png", recipe)
    out = tmp_path / "again.png"
    code, _, err = run_cli(capsys, "generate", "--recipe", str(png), "--out", str(out))
    assert code == 0, err
    again = read_recipe(out)
    assert again is not None and again.prompt == recipe.prompt
    assert again.extras["Lora hashes"].startswith(f"{imported.name}: ")
