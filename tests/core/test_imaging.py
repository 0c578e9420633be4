"""Opening the artist's files (and refusing bad ones clearly), conversions, and outpaint canvases."""

from __future__ import annotations

import io
import itertools
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sfumato.core.api import BadInput, ErrorKind
from sfumato.core.imaging import extend_canvas, from_pil, load_image, load_mask, resize, to_pil
from sfumato.core.limits import MAX_SIDE
from tests.support.png_files import png_claiming


def _picture(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """Smooth colour gradients with a little texture, like a real picture."""
    rng = np.random.default_rng(seed)
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float64)
    picture = np.stack(
        [60 + 120 * grid_x / width, 40 + 150 * grid_y / height, 200 - 80 * grid_x / width], axis=-1
    )
    picture += rng.normal(0, 6, picture.shape)
    return np.clip(np.rint(picture), 0, 255).astype(np.uint8)


# ---- loading images -------------------------------------------------------------------------------


def test_png_pixels_load_exactly(tmp_path: Path) -> None:
    picture = _picture()
    Image.fromarray(picture).save(tmp_path / "picture.png")
    loaded = load_image(tmp_path / "picture.png")
    assert loaded.dtype == np.uint8
    assert np.array_equal(loaded, picture)


def test_alpha_is_dropped_not_composited_on_white(tmp_path: Path) -> None:
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[..., :3] = (10, 120, 230)
    rgba[:4, :, 3] = 0  # fully transparent top half keeps its colour
    rgba[4:, :, 3] = 255
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "layer.png")
    loaded = load_image(tmp_path / "layer.png")
    assert loaded.shape == (8, 8, 3)
    assert np.all(loaded == (10, 120, 230))


def test_greyscale_palette_and_cmyk_files_load_as_rgb(tmp_path: Path) -> None:
    Image.new("LA", (4, 3), (90, 0)).save(tmp_path / "grey.png")
    assert np.all(load_image(tmp_path / "grey.png") == 90)

    palette = Image.new("P", (4, 3), 0)
    palette.putpalette([200, 30, 40] + [0, 0, 0] * 255)
    palette.save(tmp_path / "palette.gif")
    assert np.all(load_image(tmp_path / "palette.gif") == (200, 30, 40))

    Image.new("CMYK", (4, 3), (0, 255, 255, 0)).save(tmp_path / "print.tif")
    assert np.all(load_image(tmp_path / "print.tif") == (255, 0, 0))


def test_16_bit_greyscale_is_scaled_not_clipped_to_white(tmp_path: Path) -> None:
    ramp = np.array([[0, 257 * 64, 257 * 128, 65535]], dtype=np.uint16)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    loaded = load_image(tmp_path / "deep.png")
    assert loaded[0, :, 0].tolist() == [0, 64, 128, 255]
    assert np.all(loaded[..., 0] == loaded[..., 2])


def test_exif_orientation_turns_the_picture_upright(tmp_path: Path) -> None:
    stored = np.zeros((2, 4, 3), dtype=np.uint8)
    stored[0, 0] = (255, 0, 0)  # marker in the stored top-left corner
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    image.save(tmp_path / "phone.png", exif=exif)
    loaded = load_image(tmp_path / "phone.png")
    assert loaded.shape == (4, 2, 3)
    assert tuple(loaded[0, 1]) == (255, 0, 0)  # now the top-right corner


def _assert_bad_input(path: Path, *words: str) -> BadInput:
    with pytest.raises(BadInput) as caught:
        load_image(path)
    error = caught.value
    assert error.kind is ErrorKind.BAD_INPUT
    assert path.name in error.message
    for word in words:
        assert word in error.message.lower()
    return error


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    _assert_bad_input(tmp_path / "gone.png", "cannot find")


def test_text_file_named_png_is_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("these are my notes, not a picture\n")
    _assert_bad_input(tmp_path / "notes.png", "not an image")


@pytest.mark.parametrize("image_format", ["PNG", "JPEG"])
def test_truncated_files_are_reported_damaged(tmp_path: Path, image_format: str) -> None:
    buffer = io.BytesIO()
    Image.fromarray(_picture(128, 128)).save(buffer, image_format)
    data = buffer.getvalue()
    path = tmp_path / f"cut.{image_format.lower()}"
    path.write_bytes(data[: len(data) * 2 // 3])
    _assert_bad_input(path, "damaged or incomplete")


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (40_000, 16)])
def test_decompression_bombs_are_refused_quickly(tmp_path: Path, width: int, height: int) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(width, height))
    started = time.monotonic()
    _assert_bad_input(path, "too large")
    assert time.monotonic() - started < 2.0


# ---- loading masks --------------------------------------------------------------------------------


def test_greyscale_mask_loads_as_is(tmp_path: Path) -> None:
    mask = np.zeros((16, 24), dtype=np.uint8)
    mask[4:12, 6:18] = 255
    mask[0, 0] = 128
    Image.fromarray(mask, mode="L").save(tmp_path / "mask.png")
    loaded = load_mask(tmp_path / "mask.png", size=(24, 16))
    assert loaded.dtype == np.uint8 and np.array_equal(loaded, mask)


def test_mask_from_a_transparent_layer_uses_its_alpha(tmp_path: Path) -> None:
    layer = np.zeros((16, 24, 4), dtype=np.uint8)
    layer[..., :3] = 255  # white everywhere: brightness alone would say "repaint everything"
    layer[4:12, 6:18, 3] = 255
    Image.fromarray(layer, mode="RGBA").save(tmp_path / "strokes.png")
    loaded = load_mask(tmp_path / "strokes.png")
    assert np.array_equal(loaded, layer[..., 3])


def test_mask_from_an_opaque_colour_image_uses_its_brightness(tmp_path: Path) -> None:
    layer = np.zeros((16, 24, 4), dtype=np.uint8)
    layer[..., 3] = 255
    layer[4:12, 6:18, :3] = 255
    Image.fromarray(layer, mode="RGBA").save(tmp_path / "opaque.png")
    loaded = load_mask(tmp_path / "opaque.png")
    assert np.array_equal(loaded, layer[..., 0])


def test_mask_of_the_wrong_size_is_refused_with_both_sizes(tmp_path: Path) -> None:
    Image.new("L", (32, 16), 255).save(tmp_path / "small-mask.png")
    with pytest.raises(BadInput) as caught:
        load_mask(tmp_path / "small-mask.png", size=(64, 48))
    message = caught.value.message
    assert "small-mask.png" in message
    assert "mask is 32x16 but the image is 64x48" in message


def test_broken_mask_files_give_bad_input(tmp_path: Path) -> None:
    (tmp_path / "mask.png").write_bytes(b"GIF89a but not really")
    with pytest.raises(BadInput, match=r"mask\.png"):
        load_mask(tmp_path / "mask.png")


# ---- conversions ----------------------------------------------------------------------------------


def test_pil_round_trip_and_lanczos_resize() -> None:
    picture = _picture()
    assert np.array_equal(from_pil(to_pil(picture)), picture)
    assert from_pil(Image.new("L", (3, 2), 50)).shape == (2, 3, 3)

    smaller = resize(picture, (32, 24))
    assert smaller.shape == (24, 32, 3) and smaller.dtype == np.uint8
    assert np.abs(smaller.astype(int).mean(axis=(0, 1)) - picture.astype(int).mean(axis=(0, 1))).max() < 3

    flat = np.full((10, 10), 200, dtype=np.uint8)
    assert np.all(resize(flat, (25, 7)) == 200)
    alpha = np.ones((10, 10), dtype=np.float32)
    stretched = resize(alpha, (20, 20))
    assert stretched.dtype == np.float32 and np.allclose(stretched, 1.0, atol=1e-5)


# ---- outpainting ----------------------------------------------------------------------------------


def test_outpaint_canvas_keeps_the_original_and_masks_the_new_area() -> None:
    picture = _picture()
    canvas, mask = extend_canvas(picture, 16, 8, 0, 24)
    assert canvas.shape == (48 + 8 + 24, 64 + 16, 3) and canvas.dtype == np.uint8
    assert np.array_equal(canvas[8:56, 16:80], picture)
    assert mask.shape == canvas.shape[:2]
    assert np.all(mask[8:56, 16:80] == 0)
    mask[8:56, 16:80] = 255
    assert np.all(mask == 255)


def test_outpaint_prefill_continues_the_edge_colours() -> None:
    picture = _picture()
    picture[:, :6] = (220, 30, 30)  # a red left edge
    canvas, _ = extend_canvas(picture, 32, 0, 0, 0)
    band = canvas[:, :32].astype(np.float64)
    assert np.all(band[..., 0] > 180) and np.all(band[..., 1:] < 70)

    picture = _picture()
    canvas, _ = extend_canvas(picture, 0, 0, 40, 0)
    band_mean = canvas[:, 64:].reshape(-1, 3).mean(axis=0)
    edge_mean = picture[:, -1].reshape(-1, 3).mean(axis=0)
    assert np.abs(band_mean - edge_mean).max() < 6


def test_outpaint_corners_take_the_colour_of_the_nearest_corner() -> None:
    picture = np.zeros((32, 32, 3), dtype=np.uint8)
    picture[:16, :16] = (200, 40, 40)
    picture[:16, 16:] = (40, 200, 40)
    picture[16:, :16] = (40, 40, 200)
    picture[16:, 16:] = (200, 200, 40)
    canvas, _ = extend_canvas(picture, 16, 16, 16, 16)
    corners = {
        (200, 40, 40): canvas[:16, :16],
        (40, 200, 40): canvas[:16, -16:],
        (40, 40, 200): canvas[-16:, :16],
        (200, 200, 40): canvas[-16:, -16:],
    }
    for colour, corner in corners.items():
        mean = corner.reshape(-1, 3).mean(axis=0)
        assert np.abs(mean - np.array(colour)).max() < 40, (colour, mean)


def test_outpaint_has_no_hard_seam() -> None:
    picture = _picture(64, 64, seed=3)
    canvas, _ = extend_canvas(picture, 24, 24, 24, 24)
    inner = picture.astype(np.float64)
    seams = [
        (canvas[24:88, 23], picture[:, 0]),
        (canvas[24:88, 88], picture[:, -1]),
        (canvas[23, 24:88], picture[0]),
        (canvas[88, 24:88], picture[-1]),
    ]
    texture_step = np.abs(np.diff(inner, axis=1)).mean()
    for outside, edge in seams:
        step = np.abs(outside.astype(np.float64) - edge).mean()
        grey_step = np.abs(128.0 - edge.astype(np.float64)).mean()
        assert step < 0.2 * grey_step
        assert step <= texture_step * 1.5


def test_outpaint_detail_fades_with_distance_from_the_edge() -> None:
    picture = np.zeros((256, 16, 3), dtype=np.uint8)
    picture[(np.arange(256) // 8) % 2 == 0, 0] = 255  # bands of 8 rows reaching the left edge
    canvas, _ = extend_canvas(picture, 64, 0, 0, 0)
    middle = slice(96, 160)  # away from the top and bottom, whose own colours spread in
    contrast = [int(np.ptp(canvas[middle, 64 - distance, 0].astype(int))) for distance in (1, 6, 12, 32, 64)]
    assert contrast[0] > 200  # right at the seam the bands continue
    assert all(near > far for near, far in itertools.pairwise(contrast))
    assert contrast[-1] < 10  # far out only the average colour is left


@pytest.mark.parametrize(
    "margins",
    [(0, 0, 0, 0), (12, 0, 0, 0), (0, -8, 0, 0), (0, 0, 8.0, 0)],
)
def test_outpaint_margins_must_be_multiples_of_8(margins: tuple[int, int, int, int]) -> None:
    with pytest.raises(BadInput):
        extend_canvas(_picture(), *margins)


@pytest.mark.parametrize(("width", "height"), [(13_000, 13_000), (MAX_SIDE + 8, 8), (8, MAX_SIDE + 8)])
def test_pictures_beyond_the_engines_limit_are_refused_from_their_header(
    tmp_path: Path, width: int, height: int
) -> None:
    path = tmp_path / "large.png"
    path.write_bytes(png_claiming(width, height))  # no pixel data: decoding it would fail otherwise
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning printed either
        message = _assert_bad_input(path, "too large").message
    assert f"{width}x{height}" in message and str(MAX_SIDE) in message


def test_a_picture_at_the_engines_limit_loads(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    Image.fromarray(_picture(8, MAX_SIDE)).save(path)
    assert load_image(path).shape == (8, MAX_SIDE, 3)
