"""The `sfumato` command line as a user runs it: files in, PNGs with recipes out, one-line errors."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sfumato.core import __version__
from sfumato.core.api import Finished, LoadingModel, Mode, Step
from sfumato.core.cli import main
from sfumato.core.cli.plan import output_paths
from sfumato.core.cli.progress import Progress
from sfumato.core.metadata import read_recipe
from sfumato.core.schedulers import sampler_names
from tests.support.png_files import png_claiming


@pytest.fixture(autouse=True)
def _engine_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFUMATO_IN_PROCESS", "1")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_image(path: Path, width: int, height: int, seed: int = 0) -> Path:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def write_mask(path: Path, width: int, height: int) -> Path:
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[height // 4 : height // 2, width // 4 : width // 2] = 255
    Image.fromarray(mask).save(path)
    return path


def png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def tiny_args(model: Path, out: Path, *extra: str) -> list[str]:
    return [
        "generate",
        "--model",
        str(model),
        "--prompt",
        "a red circle",
        "--steps",
        "2",
        "--out",
        str(out),
        *extra,
    ]


def generated(capsys: pytest.CaptureFixture[str], model: Path, out: Path, *extra: str) -> Path:
    """Run `generate` with the tiny settings and `extra`; `out`, once the run has succeeded."""
    code, _, stderr = run_cli(capsys, *tiny_args(model, out, *extra))
    assert code == 0, stderr
    return out


# ---- generating -------------------------------------------------------------------------------------


def test_txt2img_batch_writes_numbered_pngs_that_carry_their_recipes(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cat.png"
    argv = tiny_args(tiny_model_dir, out, "--width", "64", "--height", "72", "--batch", "3", "--seed", "41")
    code, stdout, stderr = run_cli(
        capsys, *argv, "--negative", "blurry", "--cfg", "5.5", "--sampler", "Euler"
    )

    assert code == 0, stderr
    expected = [tmp_path / "cat.png", tmp_path / "cat-1.png", tmp_path / "cat-2.png"]
    assert stdout.splitlines() == [str(path) for path in expected]
    assert sorted(tmp_path.iterdir()) == sorted(expected)
    for index, path in enumerate(expected):
        assert png_size(path) == (64, 72)
        recipe = read_recipe(path)
        assert recipe is not None
        assert (recipe.prompt, recipe.negative, recipe.sampler) == ("a red circle", "blurry", "Euler")
        assert (recipe.steps, recipe.cfg, recipe.seed) == (2, 5.5, 41 + index)
        assert (recipe.width, recipe.height, recipe.mode) == (64, 72, Mode.TXT2IMG)
    assert [line for line in stderr.splitlines() if "done" in line] == [
        f"image {n}/3 done (2 steps)" for n in (1, 2, 3)
    ]


def test_clip_skip_changes_the_image_and_is_stored_in_its_recipe(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = {}
    for clip_skip in ("1", "2"):
        out = tmp_path / f"skip-{clip_skip}.png"
        size_and_seed = ("--width", "64", "--height", "64", "--seed", "3")
        generated(capsys, tiny_model_dir, out, *size_and_seed, "--clip-skip", clip_skip)
        recipe = read_recipe(out)
        assert recipe is not None and recipe.clip_skip == int(clip_skip)
        images[clip_skip] = np.asarray(Image.open(out))
    assert not np.array_equal(images["1"], images["2"])


def test_img2img_keeps_the_init_size_by_default(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    init = write_image(tmp_path / "init.png", 80, 64)
    out = generated(capsys, tiny_model_dir, tmp_path / "out.png", "--init", str(init), "--strength", "0.5")

    assert png_size(out) == (80, 64)
    recipe = read_recipe(out)
    assert recipe is not None and recipe.mode is Mode.IMG2IMG and recipe.strength == 0.5


def test_img2img_at_a_chosen_size(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    init = write_image(tmp_path / "odd.png", 81, 63)
    out = generated(
        capsys, tiny_model_dir, tmp_path / "out.png", "--init", str(init), "--width", "64", "--height", "56"
    )
    assert png_size(out) == (64, 56)


def test_inpaint_keeps_the_image_size_and_the_pixels_outside_the_mask(
    tiny_inpaint_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    init = write_image(tmp_path / "init.png", 72, 64)
    mask = write_mask(tmp_path / "mask.png", 72, 64)
    argv = ("--init", str(init), "--mask", str(mask), "--mask-blur", "0")
    out = generated(capsys, tiny_inpaint_model_dir, tmp_path / "out.png", *argv)

    assert png_size(out) == (72, 64)
    result = np.array(Image.open(out))
    original = np.array(Image.open(init))
    outside = np.array(Image.open(mask)) == 0
    assert np.array_equal(result[outside], original[outside])
    assert not np.array_equal(result, original)
    recipe = read_recipe(out)
    assert recipe is not None and recipe.mode is Mode.INPAINT and recipe.mask_blur == 0


def test_outpaint_adds_the_margins(
    tiny_inpaint_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    init = write_image(tmp_path / "init.png", 64, 64)
    out = generated(
        capsys, tiny_inpaint_model_dir, tmp_path / "wide.png", "--init", str(init), "--extend", "8,0,16,8"
    )
    assert png_size(out) == (88, 72)
    recipe = read_recipe(out)
    assert recipe is not None and recipe.mode is Mode.OUTPAINT


def test_ctrl_c_cancels_the_job_and_keeps_the_images_already_made(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class PressCtrlCWhenAnImageIsDone(io.StringIO):
        def write(self, text: str) -> int:
            if "image 2/" in text:
                os.kill(os.getpid(), signal.SIGINT)
            return super().write(text)

    stderr = PressCtrlCWhenAnImageIsDone()
    monkeypatch.setattr(sys, "stderr", stderr)
    out = tmp_path / "kept.png"
    code = main(tiny_args(tiny_model_dir, out, "--width", "64", "--height", "64", "--batch", "50"))

    assert code == 130
    assert "image 50/50" not in stderr.getvalue()
    count = len(list(tmp_path.iterdir()))
    assert 1 <= count < 50, "the first image was made before Ctrl+C, and the batch stopped there"
    kept = output_paths(out, count)
    assert sorted(tmp_path.iterdir()) == sorted(kept)  # whole files only, the first ones of the batch
    seeds = [recipe.seed for path in kept if (recipe := read_recipe(path)) is not None]
    assert seeds == list(range(seeds[0], seeds[0] + count))
    assert capsys.readouterr().out.splitlines() == [str(path) for path in kept]
    assert f"Cancelled; {len(kept)} of 50 images were saved." in stderr.getvalue()


def test_the_real_entry_point_runs_the_engine_in_its_own_process(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "real.png"
    env = {key: value for key, value in os.environ.items() if key != "SFUMATO_IN_PROCESS"}
    argv = tiny_args(tiny_model_dir, out, "--width", "64", "--height", "64", "--seed", "3")
    done = subprocess.run(
        [sys.executable, "-m", "sfumato.core.cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(out)]
    assert "Traceback" not in done.stderr
    recipe = read_recipe(out)
    assert recipe is not None and recipe.seed == 3 and recipe.prompt == "a red circle"


def test_a_terminal_shows_one_progress_bar_line_redrawn_in_place() -> None:
    screen = io.StringIO()
    progress = Progress(screen, interactive=True)
    progress.show(LoadingModel("job-1", "/models/tiny-sd"))
    for image in range(2):
        for step in (1, 10, 20):
            progress.show(Step("job-1", step, 20, image, 2))
    progress.show(Finished("job-1", (), ()))

    frames = screen.getvalue().split("\r")[1:]
    assert frames[0].rstrip() == "Loading model tiny-sd…"
    assert frames[2] == "[##########..........] step 10/20 image 1/2"
    assert frames[-1] == "[####################] step 20/20 image 2/2\n"
    assert screen.getvalue().count("\n") == 1


# ---- bad input ----------------------------------------------------------------------------------------


def assert_one_line_error(code: int, stdout: str, stderr: str, *fragments: str) -> None:
    assert code == 2, stderr
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sfumato: error: "), stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    fake_checkpoint = tmp_path / "model.safetensors"
    fake_checkpoint.write_bytes(b"this is not a checkpoint")
    not_a_model = tmp_path / "empty-model"
    not_a_model.mkdir()
    (tmp_path / "huge.png").write_bytes(png_claiming(13000, 13000))
    return {
        "image": write_image(tmp_path / "image.png", 64, 64),
        "odd image": write_image(tmp_path / "odd.png", 65, 64),
        "small mask": write_mask(tmp_path / "small-mask.png", 32, 32),
        "mask": write_mask(tmp_path / "mask.png", 64, 64),
        "huge image": tmp_path / "huge.png",
        "notes": notes,
        "fake checkpoint": fake_checkpoint,
        "not a model": not_a_model,
    }


BAD_INPUTS: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "missing model": (["--model", "{tmp}/nowhere"], ("nowhere",)),
    "folder that is not a model": (["--model", "{not a model}"], ("model_index.json",)),
    "damaged checkpoint": (["--model", "{fake checkpoint}"], ("model.safetensors",)),
    "size not a multiple of 8": (["--width", "90"], ("multiple of 8", "--width 88")),
    "init size not a multiple of 8": (["--init", "{odd image}"], ("65x64", "--width", "--height")),
    "unreadable image": (["--init", "{notes}"], ("notes.txt",)),
    "missing image": (["--init", "{tmp}/gone.png"], ("gone.png",)),
    "mask of another size": (["--init", "{image}", "--mask", "{small mask}"], ("32x32", "64x64")),
    "unknown sampler": (["--sampler", "Euler b"], ("Euler b", *sampler_names())),
    "negative steps": (["--steps", "-3"], ("--steps", "-3")),
    "zero batch": (["--batch", "0"], ("--batch",)),
    "clip skip above 12": (["--clip-skip", "13"], ("--clip-skip", "from 1 to 12", "13")),
    "strength above 1": (["--init", "{image}", "--strength", "1.5"], ("--strength",)),
    "mask without init": (["--mask", "{small mask}"], ("--mask", "--init")),
    "extend without init": (["--extend", "0,0,64,0"], ("--extend", "--init")),
    "extend with two numbers": (["--init", "{image}", "--extend", "8,8"], ("LEFT,TOP,RIGHT,BOTTOM",)),
    "extend with a word": (["--init", "{image}", "--extend", "8,x,8,8"], ("LEFT,TOP,RIGHT,BOTTOM",)),
    "extend off the 8 grid": (["--init", "{image}", "--extend", "0,0,12,0"], ("right", "multiple of 8")),
    "missing output folder": (["--out", "{tmp}/no/such/folder/out.png"], ("does not exist",)),
    "output inside a file": (["--out", "{notes}/out.png"], ("is a file",)),
    "output not a png": (["--out", "{tmp}/out.jpg"], (".png",)),
    "unknown device": (["--device", "tpu"], ("--device", "tpu")),
    # Beyond the engine's limits (core/limits.py): refused by the command line, naming the option,
    # before an engine starts.
    "steps above the limit": (["--steps", "100000"], ("--steps", "500", "100000")),
    "cfg above the limit": (["--cfg", "51"], ("--cfg", "50")),
    "seed beyond 32 bits": (["--seed", "4294967296"], ("--seed", "4294967295")),
    "width above the limit": (["--width", "8192"], ("--width", "4096")),
    "batch above the limit": (["--batch", "101"], ("--batch", "100")),
    "huge mask blur": (
        ["--init", "{image}", "--mask", "{mask}", "--mask-blur", "1000000"],
        ("--mask-blur", "256"),
    ),
    "mask blur of 1e30": (
        ["--init", "{image}", "--mask", "{mask}", "--mask-blur", "1e30"],
        ("--mask-blur", "1e30"),
    ),
    "mask blur of 5000 digits": (
        ["--init", "{image}", "--mask", "{mask}", "--mask-blur", "9" * 5000],
        ("--mask-blur",),
    ),
    "extend with a superscript digit": (
        ["--init", "{image}", "--extend", "²,0,0,0"],
        ("LEFT,TOP,RIGHT,BOTTOM",),
    ),
    "extend beyond the largest image": (["--init", "{image}", "--extend", "0,0,4096,0"], ("4160", "4096")),
    "init far above the largest image": (["--init", "{huge image}"], ("huge.png", "13000x13000", "4096")),
    "prompt weight of 1e30": (["--prompt", "(red circle:1e30)"], ("red circle", "1e+30", "10")),
    "prompt weight of 31 digits": (["--prompt", "(red circle:" + "9" * 31 + ")"], ("red circle", "10")),
    "prompt weight from nesting": (["--prompt", "(" * 30 + "red circle"], ("red circle", "17.4")),
    "brackets nested too deep": (["--negative", "[" * 101 + "blur"], ("100",)),
    "prompt too long": (["--prompt", "a " * 6000], ("12,000", "10,000")),
    "model name too long": (["--model", "m" * 5000], ("--model", "too long")),
    "init name too long": (["--init", "{tmp}/" + "i" * 5000 + ".png"], ("--init", "too long")),
    "output name too long": (["--out", "{tmp}/" + "o" * 300 + ".png"], ("--out", "too long")),
    "batch output name too long": (
        ["--out", "{tmp}/" + "o" * 250 + ".png", "--batch", "12"],
        ("--out", "too long"),
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_one_clear_line_and_exit_code_2(
    case: str,
    files: dict[str, Path],
    tiny_model_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    overrides, fragments = BAD_INPUTS[case]
    names = {"tmp": str(tmp_path), **{name: str(path) for name, path in files.items()}}
    argv = tiny_args(tiny_model_dir, tmp_path / "out.png", *(arg.format_map(names) for arg in overrides))
    before = set(tmp_path.iterdir())

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. Pillow's DecompressionBombWarning: nothing but the line
        assert_one_line_error(*run_cli(capsys, *argv), *fragments)
    assert set(tmp_path.iterdir()) == before


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_output_folder_is_refused(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, stdout, stderr = run_cli(capsys, *tiny_args(tiny_model_dir, locked / "out.png"))
    finally:
        locked.chmod(0o700)
    assert_one_line_error(code, stdout, stderr, "not allowed to write")


def test_output_closed_early_ends_quietly(tmp_path: Path) -> None:
    # As `sfumato models list | head -1` when head has stopped reading.
    command = [sys.executable, "-m", "sfumato.core.cli", "models", "list"]
    environment = {**os.environ, "SFUMATO_HOME": str(tmp_path)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141
    assert stderr == ""


def test_an_error_line_quotes_no_more_than_a_line_of_what_was_typed(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = tiny_args(tiny_model_dir, tmp_path / "out.png", "--steps", "x" * 100_000)
    code, stdout, stderr = run_cli(capsys, *argv)
    assert_one_line_error(code, stdout, stderr, "--steps", "100,000 characters")
    assert len(stderr) < 400


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert_one_line_error(*run_cli(capsys), "COMMAND")


# ---- info and version -------------------------------------------------------------------------------


def test_info_names_versions_device_and_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import diffusers
    import torch

    code, stdout, stderr = run_cli(capsys, "info", "--device", "cpu")
    assert code == 0, stderr
    rows = dict(line.split(":", 1) for line in stdout.splitlines())
    values = {label: value.strip() for label, value in rows.items()}
    assert values["Sfumato"] == __version__
    assert values["torch"] == torch.__version__
    assert values["diffusers"] == diffusers.__version__
    assert values["Python"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    assert values["Device"] == "CPU (cpu, float32)"
    assert values["CUDA available"] == ("yes" if torch.cuda.is_available() else "no")
    home = Path(os.environ["SFUMATO_HOME"])
    assert values["Data folder"] == str(home / "data")
    assert values["Cache folder"] == str(home / "cache")
    assert values["Config folder"] == str(home / "config")
    assert values["Hugging Face cache"]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run_cli(capsys, "--version")
    assert code == 0
    assert stdout.strip() == f"sfumato {__version__}"
