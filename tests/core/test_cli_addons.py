"""`sfumato generate` with LoRAs and embeddings in the prompt: used when they fit, refused in one line
before anything loads when they do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfumato.core.cli import main
from sfumato.core.metadata import read_recipe
from sfumato.core.models.imports import import_embedding, import_lora
from tests.core.models.addon_files import a1111_embedding, kohya_lora, write
from tests.support.tiny_addons import peft_lora


@pytest.fixture(autouse=True)
def _engine_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFUMATO_IN_PROCESS", "1")


def generate(
    capsys: pytest.CaptureFixture[str], model: Path, out: Path, prompt: str, *extra: str
) -> tuple[int, str]:
    argv = ["generate", "--model", str(model), "--prompt", prompt, "--steps", "2", "--out", str(out)]
    code = main([*argv, "--width", "64", "--height", "64", *extra])
    return code, capsys.readouterr().err


def assert_refused(code: int, stderr: str, *fragments: str) -> None:
    assert code != 0
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sfumato: error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_a_lora_given_by_its_file_is_used_and_recorded(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lora = peft_lora(tiny_model_dir, tmp_path / "My Style.safetensors")
    prompt = f"a red circle <lora:{lora}:0.8>"
    code, stderr = generate(capsys, tiny_model_dir, tmp_path / "out.png", prompt)
    assert code == 0, stderr
    recipe = read_recipe(tmp_path / "out.png")
    assert recipe is not None and recipe.prompt == prompt
    assert recipe.extras["Lora hashes"].startswith("My Style: ")


@pytest.mark.parametrize(
    ("prompt", "negative", "fragments"),
    [
        ("a cat <lora:nowhere:0.8>", "", ('No LoRA is called "nowhere"',)),
        ("a cat", "<lora:nowhere>", ('No LoRA is called "nowhere"',)),
        ("a cat <lora:sd1-style:strong>", "", ('"strong"', "not a number")),
        ("a cat <lora:sd1-style:0.5:nan>", "", ('"nan"', "not a number")),
        ("a cat <lora:sd1-style:0.8>", "", ("sd1-style", "Stable Diffusion 1.x", "32 wide")),
        ("a cat, sd2-look", "", ("sd2-look", "Stable Diffusion 2.x", "32 wide")),
        ("a cat", "(sd2-look:1.2)", ("sd2-look", "Stable Diffusion 2.x")),
        ("a cat <hypernet:old:1>", "", ("hypernetwork",)),
        ("a cat <lora:loha>", "", ("loha", "LoHa")),
        ("a cat <lora:other-layout:0.5>", "", ("other-layout", "no matching layer")),
    ],
)
def test_unknown_names_bad_weights_and_add_ons_for_another_model_are_refused_in_one_line(
    tiny_model_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    prompt: str,
    negative: str,
    fragments: tuple[str, ...],
) -> None:
    import_lora(kohya_lora(tmp_path / "sd1-style.safetensors", 768))
    import_embedding(a1111_embedding(tmp_path / "sd2-look.safetensors", 1024))
    import_lora(write(tmp_path / "loha.safetensors", {"lora_unet_x.hada_w1_a": (4, 32)}))
    # 32 wide as the tiny model, but in the original model's layer names, which it does not have.
    other = "lora_unet_input_blocks_1_1_proj_in"
    import_lora(
        write(
            tmp_path / "other-layout.safetensors",
            {f"{other}.lora_down.weight": (2, 32), f"{other}.lora_up.weight": (32, 2)},
        )
    )
    out = tmp_path / "out.png"
    code, stderr = generate(capsys, tiny_model_dir, out, prompt, "--negative", negative)
    assert_refused(code, stderr, *fragments)
    assert not out.exists()
