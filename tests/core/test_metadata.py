"""Recipes written into PNGs as AUTOMATIC1111 "parameters" text, and read back from ours and A1111's."""

from __future__ import annotations

import errno
import io
import re
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from sfumato.core.api import MAX_SIDE, MIN_SIDE, BadInput, Mode, Recipe
from sfumato.core.hires_plan import MAX_FACTOR
from sfumato.core.limits import MAX_RECIPE_TEXT
from sfumato.core.metadata import format_parameters, parse_parameters, read_recipe, save_png
from tests.support.png_files import chunk, png_claiming, tiny_png

OUR_RECIPES = {
    "plain": Recipe(prompt="a lighthouse at dusk", seed=1234),
    "commas, colons and quotes": Recipe(
        prompt='portrait, (blue eyes:1.2), "golden hour", style: oil',
        negative='blurry, lowres: bad, "jpeg" artifacts',
        model="dreamy, v2: final",
        model_hash="0123456789",
    ),
    "newlines": Recipe(prompt="a cat,\non a sofa\n\nin the rain", negative="ugly,\nextra fingers"),
    "unicode": Recipe(prompt="猫が窓辺で眠る, café crème, 🌸 sakura", negative="ひどい, flou"),
    "empty negative": Recipe(prompt="still life with pears", negative=""),
    "empty prompt": Recipe(prompt="", negative="text, watermark"),
    "karras": Recipe(prompt="forest", sampler="DPM++ 2M Karras", steps=30, cfg=5.5, seed=4294967295),
    "sde karras": Recipe(prompt="forest", sampler="DPM++ SDE Karras"),
    "exponential": Recipe(prompt="forest", sampler="DPM++ 2M SDE Exponential"),
    "unipc": Recipe(prompt="forest", sampler="UniPC", width=768, height=512),
    "img2img": Recipe(prompt="watercolour", mode=Mode.IMG2IMG, strength=0.35, cfg=0.1 + 0.2),
    "inpaint": Recipe(prompt="a red scarf", mode=Mode.INPAINT, strength=1.0, mask_blur=4),
    "outpaint": Recipe(prompt="more sky", mode=Mode.OUTPAINT, strength=None, mask_blur=8),
    "clip skip": Recipe(prompt="anime knight", clip_skip=2),
    "extras": Recipe(
        prompt="knight",
        extras={"Lora hashes": "armor: 1a2b3c, cape, long: 4d5e6f", "Version": "v1.10.1"},
    ),
    "prompt line looks like the negative": Recipe(prompt="title\nNegative prompt: not really", negative="x"),
    "surrounding spaces": Recipe(prompt="  indented\nline with trailing space ", negative=" padded "),
    "prompt ending like a parameters line": Recipe(prompt="a\nSteps: 1, Sampler: X, Seed: 2, Size: 8x8"),
    "windows line ends": Recipe(prompt="one\r\ntwo", negative="three\r\n"),
    "prompt starting with blank lines": Recipe(prompt="\n\nsea"),
}


@pytest.mark.parametrize("recipe", OUR_RECIPES.values(), ids=OUR_RECIPES.keys())
def test_our_recipes_read_back_exactly(recipe: Recipe) -> None:
    assert parse_parameters(format_parameters(recipe)) == recipe


def test_written_text_has_the_a1111_layout() -> None:
    recipe = Recipe(
        prompt="a cat, masterpiece",
        negative="blurry",
        sampler="DPM++ 2M Karras",
        steps=20,
        cfg=7.0,
        seed=1234,
        width=512,
        height=768,
        model="name",
        model_hash="0123456789",
        mode=Mode.IMG2IMG,
        strength=0.75,
    )
    prompt, negative, parameters = format_parameters(recipe).split("\n")

    assert prompt == "a cat, masterpiece"
    assert negative == "Negative prompt: blurry"
    assert parameters.startswith(
        "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234, Size: 512x768, "
        "Model hash: 0123456789, Model: name, Denoising strength: 0.75"
    )
    assert "Sfumato mode: img2img" in parameters


def test_optional_parts_are_left_out_when_empty() -> None:
    text = format_parameters(Recipe(prompt="a cat", sampler="Euler a"))

    assert "Negative prompt" not in text
    assert "Denoising strength" not in text
    assert "Mask blur" not in text
    assert "Schedule type" not in text
    assert "Sampler: Euler a," in text


def test_values_with_separators_are_json_quoted() -> None:
    text = format_parameters(Recipe(prompt="x", model="a, b: c", extras={"Note": 'say "hi"'}))

    assert 'Model: "a, b: c"' in text
    assert 'Note: "say \\"hi\\""' in text


OLD_STYLE = """\
masterpiece, best quality, 1girl, (blue eyes:1.2), looking at viewer
Negative prompt: lowres, bad anatomy, (worst quality:1.4)
Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 7.5, Seed: 3541280955, Size: 512x768, \
Model hash: 7f96a1a9ca, Model: anything-v4.5-pruned, Clip skip: 2, ENSD: 31337"""

NEW_STYLE = """\
portrait of an old fisherman, oil painting, dramatic light
Negative prompt: (worst quality, low quality:1.3), watermark
Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6, Seed: 1234567890, Size: 832x1216, \
Model hash: 31e35c80fc, Model: sd_xl_base_1.0, VAE hash: 235745af8d, VAE: sdxl_vae.safetensors, \
Lora hashes: "add_detail: 7c6bad76eb54, film grain: 1a2b3c4d5e6f", TI hashes: "EasyNegative: c74b4e810b03", \
Version: v1.10.1"""

HIRES_FIX = """\
a castle on a cliff
Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 42, Size: 512x512, \
Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.7, Hires upscale: 2, \
Hires steps: 10, Hires upscaler: Latent, Version: v1.9.4"""

INPAINT = """\
a red scarf
Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x512, Model hash: 6ce0161689, \
Model: v1-5-pruned-emaonly, Denoising strength: 0.75, Mask blur: 4, Inpaint area: Only masked, \
Masked area padding: 32, Version: v1.9.4"""

IMG2IMG = """\
watercolour landscape
Negative prompt: photo
Steps: 25, Sampler: UniPC, CFG scale: 7, Seed: 7, Size: 768x512, Model hash: 6ce0161689, \
Model: v1-5-pruned-emaonly, Denoising strength: 0.6"""

MULTILINE_ADETAILER = """\
line one,
line two
Negative prompt: bad hands,
extra fingers
Steps: 25, Sampler: DPM++ 2M SDE, Schedule type: Exponential, CFG scale: 5.5, Seed: 99, Size: 640x960, \
Model hash: abcdef1234, Model: realisticVision, ADetailer model: face_yolov8n.pt, \
ADetailer prompt: "smiling face, detailed eyes", ADetailer confidence: 0.3, ADetailer version: 24.9.0, \
Schedule max sigma: 14.6, Version: v1.10.1"""

A1111_TEXTS = {
    "old style": OLD_STYLE,
    "new style": NEW_STYLE,
    "hires fix": HIRES_FIX,
    "inpaint": INPAINT,
    "img2img": IMG2IMG,
    "multiline with adetailer": MULTILINE_ADETAILER,
}


def test_old_style_sampler_with_karras_in_its_name() -> None:
    recipe = parse_parameters(OLD_STYLE)

    assert recipe.prompt == "masterpiece, best quality, 1girl, (blue eyes:1.2), looking at viewer"
    assert recipe.negative == "lowres, bad anatomy, (worst quality:1.4)"
    assert recipe.sampler == "DPM++ 2M Karras"
    assert (recipe.steps, recipe.cfg, recipe.seed) == (28, 7.5, 3541280955)
    assert (recipe.width, recipe.height) == (512, 768)
    assert (recipe.model, recipe.model_hash) == ("anything-v4.5-pruned", "7f96a1a9ca")
    assert recipe.mode == Mode.TXT2IMG
    assert recipe.strength is None
    assert recipe.clip_skip == 2
    assert recipe.extras == {"ENSD": "31337"}


def test_clip_skip_is_written_as_a1111_does_only_when_it_is_not_1() -> None:
    assert "Clip skip" not in format_parameters(Recipe(prompt="a cat"))
    written = format_parameters(parse_parameters(OLD_STYLE))

    assert written.splitlines()[-1].startswith(
        "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7.5, Seed: 3541280955, "
        "Size: 512x768, Clip skip: 2, Model hash: 7f96a1a9ca, Model: anything-v4.5-pruned, ENSD: 31337"
    )


def test_new_style_schedule_type_joins_the_sampler_and_quoted_extras_are_unquoted() -> None:
    recipe = parse_parameters(NEW_STYLE)

    assert recipe.sampler == "DPM++ 2M Karras"
    assert recipe.negative == "(worst quality, low quality:1.3), watermark"
    assert (recipe.width, recipe.height, recipe.cfg) == (832, 1216, 6.0)
    assert recipe.extras == {
        "VAE hash": "235745af8d",
        "VAE": "sdxl_vae.safetensors",
        "Lora hashes": "add_detail: 7c6bad76eb54, film grain: 1a2b3c4d5e6f",
        "TI hashes": "EasyNegative: c74b4e810b03",
        "Version": "v1.10.1",
    }


def test_exponential_schedule_and_multiline_prompts() -> None:
    recipe = parse_parameters(MULTILINE_ADETAILER)

    assert recipe.prompt == "line one,\nline two"
    assert recipe.negative == "bad hands,\nextra fingers"
    assert recipe.sampler == "DPM++ 2M SDE Exponential"
    assert recipe.extras["ADetailer prompt"] == "smiling face, detailed eyes"
    assert recipe.extras["Schedule max sigma"] == "14.6"


def test_automatic_schedule_means_no_suffix_and_is_kept() -> None:
    recipe = parse_parameters(HIRES_FIX)

    assert recipe.sampler == "Euler a"
    assert recipe.extras["Schedule type"] == "Automatic"


def test_other_schedule_types_stay_beside_the_sampler() -> None:
    text = "x\nSteps: 20, Sampler: Euler, Schedule type: SGM Uniform, CFG scale: 7, Seed: 1"
    recipe = parse_parameters(text)

    assert recipe.sampler == "Euler"
    assert recipe.extras == {"Schedule type": "SGM Uniform"}
    assert "Sampler: Euler, " in format_parameters(recipe)
    assert "Schedule type: SGM Uniform" in format_parameters(recipe)


@pytest.mark.parametrize(
    ("text", "mode", "strength", "mask_blur"),
    [
        (OLD_STYLE, Mode.TXT2IMG, None, None),
        (HIRES_FIX, Mode.TXT2IMG, None, None),
        (IMG2IMG, Mode.IMG2IMG, 0.6, None),
        (INPAINT, Mode.INPAINT, 0.75, 4),
    ],
    ids=["txt2img", "hires fix", "img2img", "inpaint"],
)
def test_mode_is_inferred_from_a1111_keys(
    text: str, mode: Mode, strength: float | None, mask_blur: int | None
) -> None:
    recipe = parse_parameters(text)

    assert (recipe.mode, recipe.strength, recipe.mask_blur) == (mode, strength, mask_blur)


def test_hires_fix_settings_are_read_and_written_back_with_a1111_keys() -> None:
    recipe = parse_parameters(HIRES_FIX)

    assert (recipe.hires, recipe.hires_strength, recipe.hires_steps, recipe.upscaler) == (
        "2",
        0.7,
        10,
        "Latent",
    )
    assert recipe.strength is None and "Denoising strength" not in recipe.extras
    written = format_parameters(recipe)
    assert (
        "Denoising strength: 0.7, Hires upscale: 2, Hires resize: 1024x1024, Hires steps: 10, "
        "Hires upscaler: Latent" in written
    )


def a1111_frame(text: str) -> tuple[int, int]:
    """The frame AUTOMATIC1111 draws from a parameters text: `Size`, or with hires fix the target it
    resizes to (`Hires resize`, one side 0 following the first pass's aspect) or `Size` × `Hires upscale`."""
    pairs = dict(re.findall(r"\s*([\w ]+): ([^,]+)(?:,|$)", text.splitlines()[-1]))
    width, height = (int(side) for side in pairs["Size"].split("x"))
    if "Denoising strength" not in pairs or not {"Hires upscale", "Hires resize"} & set(pairs):
        return width, height
    resize_width, resize_height = (int(side) for side in pairs.get("Hires resize", "0x0").split("x"))
    if (resize_width, resize_height) == (0, 0):
        scale = float(pairs["Hires upscale"])
        return int(width * scale), int(height * scale)
    if resize_width == 0:
        return resize_height * width // height, resize_height
    if resize_height == 0:
        return resize_width, resize_width * height // width
    return resize_width, resize_height


@pytest.mark.parametrize(
    ("hires", "frame", "first_pass"),
    [("2", (256, 64), (128, 32)), ("4", (1024, 1024), (256, 256)), ("1.51", (1000, 600), (664, 400))],
)
def test_a_hires_picture_is_written_as_a1111_writes_it_first_pass_in_size(
    hires: str, frame: tuple[int, int], first_pass: tuple[int, int]
) -> None:
    recipe = Recipe(prompt="a wide valley", width=frame[0], height=frame[1], hires=hires)
    written = format_parameters(recipe)

    assert f"Size: {first_pass[0]}x{first_pass[1]}," in written
    assert f"Hires upscale: {hires}, Hires resize: {frame[0]}x{frame[1]}," in written
    assert a1111_frame(written) == frame
    assert parse_parameters(written) == recipe


@settings(max_examples=150, deadline=None)
@given(
    st.integers(MIN_SIDE, MAX_SIDE),
    st.integers(MIN_SIDE, MAX_SIDE),
    st.floats(1, MAX_FACTOR).map(lambda factor: f"{factor:.3g}"),
)
def test_every_hires_frame_reads_back_the_same_here_and_in_a1111(width: int, height: int, hires: str) -> None:
    written = format_parameters(Recipe(prompt="a castle", width=width, height=height, hires=hires))

    assert a1111_frame(written) == (width, height)
    assert (parse_parameters(written).width, parse_parameters(written).height) == (width, height)


@pytest.mark.parametrize(
    ("size_keys", "frame", "hires"),
    [
        ("Size: 512x512, Hires upscale: 2", (1024, 1024), "2"),
        ("Size: 512x768, Hires upscale: 1.5", (768, 1152), "1.5"),
        ("Size: 960x540, Hires resize: 1920x1080", (1920, 1080), "2"),
        ("Size: 512x768, Hires resize: 1024x0", (1024, 1536), "2"),
        ("Size: 512x768, Hires upscale: 2, Hires resize: 0x1000", (666, 1000), "2"),
    ],
)
def test_a1111_hires_pictures_read_as_their_final_frame(
    size_keys: str, frame: tuple[int, int], hires: str
) -> None:
    text = (
        f"a castle\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, {size_keys}, Denoising strength: 0.4"
    )
    recipe = parse_parameters(text)

    assert (recipe.width, recipe.height, recipe.hires) == (*frame, hires)
    assert a1111_frame(text) == frame
    assert a1111_frame(format_parameters(recipe)) == frame
    assert parse_parameters(format_parameters(recipe)) == recipe


def test_older_sfumato_hires_pictures_held_the_final_frame_in_size() -> None:
    settings = "a castle\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1"
    older = f"{settings}, Size: 256x64, Denoising strength: 0.5, Hires upscale: 2, Sfumato mode: txt2img"
    first_a1111 = f"{settings}, Size: 1024x1024, Denoising strength: 0.7, First pass size: 512x512"

    assert (parse_parameters(older).width, parse_parameters(older).height) == (256, 64)
    assert (parse_parameters(first_a1111).width, parse_parameters(first_a1111).height) == (1024, 1024)


def test_an_enlarged_image_to_image_keeps_its_size_and_strength() -> None:
    recipe = Recipe(prompt="a cat", mode=Mode.IMG2IMG, strength=0.6, width=256, height=256, hires="2")
    written = format_parameters(recipe)

    assert "Size: 256x256," in written and "Hires upscale" not in written  # A1111's img2img has no hires fix
    assert parse_parameters(written) == recipe


def test_a_picture_without_a_hires_pass_writes_no_hires_keys() -> None:
    written = format_parameters(Recipe(prompt="a cat", hires="off", hires_steps=12, upscaler="Lanczos"))

    assert "Hires" not in written and "Denoising strength" not in written


@pytest.mark.parametrize("text", A1111_TEXTS.values(), ids=A1111_TEXTS.keys())
def test_a1111_texts_write_back_with_everything_kept(text: str) -> None:
    recipe = parse_parameters(text)
    written = format_parameters(recipe)

    assert parse_parameters(written) == recipe


def test_quoted_extras_are_written_back_as_a1111_wrote_them() -> None:
    written = format_parameters(parse_parameters(NEW_STYLE))

    assert 'Lora hashes: "add_detail: 7c6bad76eb54, film grain: 1a2b3c4d5e6f"' in written
    assert 'TI hashes: "EasyNegative: c74b4e810b03"' in written
    assert written.index("VAE hash") < written.index("Lora hashes") < written.index("Version")


def test_json_object_values_survive_unquoted() -> None:
    hashes = '{"model": "31e35c80fc", "vae": "235745af8d"}'
    text = f"x\nSteps: 20, Seed: 3, CFG scale: 4, Hashes: {hashes}, Version: v1"
    recipe = parse_parameters(text)

    assert recipe.extras["Hashes"] == hashes
    assert recipe.extras["Version"] == "v1"
    written = format_parameters(recipe)
    assert f"Hashes: {hashes}," in written
    assert parse_parameters(written) == recipe


def test_bare_flags_are_kept() -> None:
    recipe = parse_parameters("x\nSteps: 20, Seed: 1, CFG scale: 7, Tiling, Version: v1.10.1")

    assert recipe.extras == {"Tiling": "Tiling", "Version": "v1.10.1"}
    assert ", Tiling, Version: v1.10.1" in format_parameters(recipe)


def test_missing_keys_take_recipe_defaults() -> None:
    recipe = parse_parameters("a cat\nSteps: 12, Seed: 5, CFG scale: 4")
    defaults = Recipe(prompt="a cat")

    assert (recipe.steps, recipe.seed, recipe.cfg) == (12, 5, 4.0)
    assert recipe.sampler == defaults.sampler
    assert (recipe.width, recipe.height) == (defaults.width, defaults.height)
    assert (recipe.model, recipe.model_hash, recipe.negative) == ("", "", "")
    assert recipe.mode == Mode.TXT2IMG


def test_surrounding_blank_lines_and_windows_line_ends_are_tolerated() -> None:
    recipe = parse_parameters("\r\n  a cat\r\nNegative prompt: dog\r\nSteps: 9, Seed: 1, CFG scale: 3\r\n\n")

    assert (recipe.prompt, recipe.negative, recipe.steps) == ("a cat", "dog", 9)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "just a prompt, with commas, and more commas",
        "a prompt\nstyle: oil, mood: dark, light: soft",
        "Steps: 20, Seed: 1",
    ],
    ids=["empty", "prompt only", "prompt with colons", "too few settings"],
)
def test_text_without_a_parameters_line_is_refused(text: str) -> None:
    with pytest.raises(BadInput, match="No generation settings"):
        parse_parameters(text)


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("Steps: many, Seed: 1, CFG scale: 7", "Steps"),
        ("Steps: 20, Seed: 1, CFG scale: strong", "CFG scale"),
        ("Steps: 20, Seed: 1, Size: big", "Size"),
    ],
)
def test_unreadable_values_name_the_setting(line: str, key: str) -> None:
    with pytest.raises(BadInput, match=key):
        parse_parameters(f"a cat\n{line}")


# ---- PNG files ----------------------------------------------------------------------------------


def _random_image(height: int, width: int, channels: int) -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (height, width, channels), dtype=np.uint8)


@pytest.mark.parametrize("channels", [3, 4], ids=["rgb", "rgba"])
def test_png_keeps_pixels_and_recipe(tmp_path: Path, channels: int) -> None:
    path = tmp_path / "out.png"
    image = _random_image(24, 40, channels)
    recipe = OUR_RECIPES["unicode"]

    save_png(path, image, recipe)

    assert read_recipe(path) == recipe
    with Image.open(path) as png:
        assert png.format == "PNG"
        assert np.array_equal(np.asarray(png), image)


@pytest.mark.parametrize("name", ["commas, colons and quotes", "inpaint", "extras"])
def test_png_round_trip_of_our_recipes(tmp_path: Path, name: str) -> None:
    path = tmp_path / "out.png"

    save_png(path, _random_image(8, 8, 3), OUR_RECIPES[name])

    assert read_recipe(path) == OUR_RECIPES[name]


def test_png_without_recipe_reads_none(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    save_png(path, _random_image(8, 8, 3), None)

    assert read_recipe(path) is None


def test_reads_a_png_written_by_a1111(tmp_path: Path) -> None:
    path = tmp_path / "00001-1234567890.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", NEW_STYLE)
    Image.fromarray(_random_image(16, 16, 3)).save(path, pnginfo=info)

    assert read_recipe(path) == parse_parameters(NEW_STYLE)


def test_recipe_stored_after_the_pixels_is_found(tmp_path: Path) -> None:
    png = io.BytesIO()
    Image.fromarray(_random_image(16, 16, 3)).save(png, format="PNG")
    data = png.getvalue()
    chunk = _png_chunk(b"tEXt", b"parameters\0" + IMG2IMG.encode("latin-1"))
    path = tmp_path / "late.png"
    path.write_bytes(data[:-12] + chunk + data[-12:])  # the last 12 bytes are the IEND chunk

    assert read_recipe(path) == parse_parameters(IMG2IMG)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload).to_bytes(4, "big")
    return len(payload).to_bytes(4, "big") + kind + payload + crc


def test_saving_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    save_png(path, _random_image(8, 8, 3), Recipe(prompt="first"))
    save_png(path, _random_image(8, 8, 3), Recipe(prompt="second"))

    assert read_recipe(path) == Recipe(prompt="second")
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


@pytest.mark.parametrize(
    "bad_image",
    [
        np.zeros((8, 8), dtype=np.uint8),
        np.zeros((8, 8, 2), dtype=np.uint8),
        np.zeros((8, 8, 3), dtype=np.float32),
        np.zeros((0, 8, 3), dtype=np.uint8),
    ],
    ids=["grey", "two channels", "float", "empty"],
)
def test_wrong_image_leaves_the_old_file_untouched(tmp_path: Path, bad_image: np.ndarray) -> None:
    path = tmp_path / "out.png"
    save_png(path, _random_image(8, 8, 3), Recipe(prompt="keep me"))
    before = path.read_bytes()

    with pytest.raises(ValueError, match="shape"):
        save_png(path, bad_image, Recipe(prompt="replacement"))

    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_failure_while_writing_leaves_the_old_file_and_no_leftovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.png"
    save_png(path, _random_image(8, 8, 3), Recipe(prompt="keep me"))
    before = path.read_bytes()

    def disk_fills_up(self: Image.Image, fp: io.BufferedWriter, *args: object, **kwargs: object) -> None:
        fp.write(b"\x89PNG\r\n\x1a\n half an image")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", disk_fills_up)
    with pytest.raises(BadInput, match="No space left on device"):
        save_png(path, _random_image(8, 8, 3), Recipe(prompt="replacement"))

    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_saving_into_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "no such folder" / "out.png"

    with pytest.raises(BadInput, match="Could not save"):
        save_png(path, _random_image(8, 8, 3), None)


def _truncated_png(path: Path) -> None:
    save_png(path, _random_image(64, 64, 3), Recipe(prompt="cut short"))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _text_file(path: Path) -> None:
    path.write_text("Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1")


def _jpeg(path: Path) -> None:
    Image.fromarray(_random_image(16, 16, 3)).save(path, format="JPEG")


def _empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("make", [_truncated_png, _text_file, _jpeg, _empty])
def test_unreadable_files_are_refused_with_their_name(tmp_path: Path, make: Callable[[Path], None]) -> None:
    path = tmp_path / "picture.png"
    make(path)

    with pytest.raises(BadInput, match=r"picture\.png"):
        read_recipe(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        read_recipe(tmp_path / "gone.png")


def test_png_with_broken_parameters_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "odd.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "only a prompt here")
    Image.fromarray(_random_image(8, 8, 3)).save(path, pnginfo=info)

    with pytest.raises(BadInput, match=r"odd\.png"):
        read_recipe(path)


# ---- hostile recipes: linear time, bounded nesting, Sfumato's own errors ------------------------------

_SETTINGS = "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512"


def _read_quickly(text: str) -> Recipe | BadInput:
    started = time.perf_counter()
    try:
        result: Recipe | BadInput = parse_parameters(text)
    except BadInput as error:
        result = error
    assert time.perf_counter() - started < 1.0
    return result


@pytest.mark.parametrize(
    "tail",
    [
        ", word" + " " * 128_000 + "s",  # took 15 s: a key was searched for by backtracking
        ', K: "a' * 35_000,
        ", K: [1" * 35_000,  # every broken value used to make the decoder's error scan the line
        ', K: {"a": 1' * 20_000,
        ', K: ["a", "b' * 15_000,
        ", K: [true, null: [true" * 10_000,
        ", a:" * 60_000,
    ],
    ids=["spaces", "open-quotes", "open-lists", "open-objects", "strings", "literals", "colons"],
)
def test_hostile_parameters_lines_are_read_in_linear_time(tail: str) -> None:
    result = _read_quickly(_SETTINGS + tail)
    assert isinstance(result, Recipe) and result.steps == 20


def test_a_value_nested_100000_deep_is_refused_as_damaged() -> None:
    result = _read_quickly(_SETTINGS + ", K: " + "[" * 100_000)
    assert isinstance(result, BadInput) and "damaged" in result.message


def test_json_values_nest_up_to_the_limit() -> None:
    within = _read_quickly(_SETTINGS + ", K: " + "[" * 100 + "]" * 100)
    beyond = _read_quickly(_SETTINGS + ", K: " + "[" * 101 + "]" * 101)
    assert isinstance(within, Recipe) and within.extras["K"] == "[" * 100 + "]" * 100
    assert isinstance(beyond, BadInput) and "100 deep" in beyond.message


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("Steps: 20, Seed: 1, Size: " + "9" * 5000 + "x512", "Size"),
        ("Steps: " + "9" * 5000 + ", Seed: 1, Size: 512x512", "Steps"),
        ("Steps: 20, Seed: " + "9" * 4000 + ", Size: 512x512", "Seed"),
        ("Steps: 20, Seed: 1, CFG scale: nan, Size: 512x512", "CFG scale"),
        ("Steps: 20, Seed: 1, CFG scale: " + "9" * 400 + ", Size: 512x512", "CFG scale"),
    ],
    ids=["5000-digit-size", "5000-digit-steps", "4000-digit-seed", "nan-cfg", "infinite-cfg"],
)
def test_absurd_numbers_are_a_clear_error_quoting_a_line_at_most(line: str, fragment: str) -> None:
    result = _read_quickly(line)
    assert isinstance(result, BadInput) and fragment in result.message
    assert len(result.message) < 300


def test_settings_text_beyond_the_limit_is_refused_as_damaged() -> None:
    result = _read_quickly("x" * (MAX_RECIPE_TEXT + 1) + "\n" + _SETTINGS)
    assert isinstance(result, BadInput) and "damaged" in result.message


def test_a_prompt_of_deep_brackets_can_still_be_written() -> None:
    recipe = Recipe(prompt="[" * 5000 + " ")  # trailing space: written as a quoted "Sfumato prompt"
    assert parse_parameters(format_parameters(recipe)).prompt == recipe.prompt


def _png_with_text(kind: bytes, text: str) -> bytes:
    encoded = text.encode("latin-1" if kind != b"iTXt" else "utf-8")
    body = {
        b"tEXt": b"parameters\0" + encoded,
        b"zTXt": b"parameters\0\0" + zlib.compress(encoded, 9),
        b"iTXt": b"parameters\0\1\0en\0\0" + zlib.compress(encoded, 9),
    }[kind]
    return tiny_png(chunk(kind, body))


@pytest.mark.parametrize("kind", [b"zTXt", b"iTXt"])
def test_a_near_megabyte_of_compressed_text_in_a_small_png_is_refused_quickly(
    tmp_path: Path, kind: bytes
) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_with_text(kind, _SETTINGS + ", word" + " " * 900_000 + "s"))
    assert path.stat().st_size < 2000  # took about 15 minutes to read
    started = time.perf_counter()
    with pytest.raises(BadInput, match=r"bomb\.png.*damaged"):
        read_recipe(path)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("kind", [b"tEXt", b"zTXt", b"iTXt"])
def test_recipes_are_read_from_every_text_chunk_without_decoding_the_pixels(
    tmp_path: Path, kind: bytes
) -> None:
    # The header claims 60000 x 60000 pixels: decoding them would take gigabytes.
    path = tmp_path / "huge.png"
    body = {b"tEXt": b"", b"zTXt": b"\0", b"iTXt": b"\0\0en\0\0"}[kind]
    path.write_bytes(png_claiming(60_000, 60_000, chunk(kind, b"parameters\0" + _text_body(kind, body))))
    recipe = read_recipe(path)
    assert recipe is not None and recipe.prompt == "a café" and recipe.steps == 20


def _text_body(kind: bytes, prefix: bytes) -> bytes:
    text = f"a café\n{_SETTINGS}".encode("latin-1" if kind != b"iTXt" else "utf-8")
    return prefix + (zlib.compress(text) if kind == b"zTXt" else text)


def test_a_damaged_recipe_chunk_is_reported_as_damaged(tmp_path: Path) -> None:
    path = tmp_path / "flipped.png"
    text = chunk(b"tEXt", b"parameters\0" + _SETTINGS.encode())
    damaged = text[:-1] + bytes([text[-1] ^ 0xFF])  # the CRC no longer matches
    path.write_bytes(tiny_png(damaged))
    with pytest.raises(BadInput, match=r"flipped\.png.*damaged"):
        read_recipe(path)


def test_a_hires_factor_too_large_for_any_picture_is_refused_in_plain_words() -> None:
    text = "x\nSteps: 20, Seed: 1, CFG scale: 7, Size: 512x512, Denoising strength: 0.5, Hires upscale: 1e300"

    with pytest.raises(BadInput, match='"Hires upscale" is "1e300", far too large'):
        parse_parameters(text)


def test_without_a_denoising_strength_a1111_draws_no_hires_pass_and_size_is_the_frame() -> None:
    recipe = parse_parameters("x\nSteps: 20, Seed: 1, CFG scale: 7, Size: 512x768, Hires upscale: 2")

    assert (recipe.width, recipe.height) == (512, 768)
