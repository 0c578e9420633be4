"""Reading the artist's image and mask files, Pillow conversions, resizing and outpaint canvases.

Images are RGB `uint8` arrays (H, W, 3); masks `uint8` (H, W), 255 = repaint. Pure numpy/Pillow.
Every problem a user can cause (a missing, damaged, oversized or mismatched file) is a `BadInput`
whose message names the file and says what is wrong.
"""

from __future__ import annotations

import os
import re
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from sfumato.core.api import BadInput
from sfumato.core.limits import MAX_PIXELS, MAX_SIDE, quoted
from sfumato.core.masks import tent_blur

OUTPAINT_STEP = 8

# What Pillow's decoders raise on damaged data, besides OSError.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as RGB uint8, turned upright by its EXIF orientation.

    Any mode is accepted: alpha is dropped (not composited), palettes, CMYK and 16-bit greyscale
    are converted. Truncated and corrupt files are refused, as are images larger than the limits.
    """
    with _open_decoded(Path(path), "image") as image:
        return from_pil(image)


def load_mask(path: str | os.PathLike[str], size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a mask file as uint8 (H, W), 255 = repaint.

    An image with transparency gives its alpha (opaque = repaint: a painted layer exported as is);
    any other image gives its brightness (white = repaint). With `size` (width, height), a mask
    of another size is refused.
    """
    path = Path(path)
    with _open_decoded(path, "mask") as image:
        mask = _alpha_if_transparent(image)
        if mask is None:
            mask = _grey_array(image)
    if size is not None and (mask.shape[1], mask.shape[0]) != tuple(size):
        mask_size = f"{mask.shape[1]}x{mask.shape[0]}"
        raise BadInput(
            f"The mask {path.name} does not fit the image: the mask is {mask_size} but the image is "
            f"{size[0]}x{size[1]}. Export the mask at the image's size."
        )
    return mask


def to_pil(array: np.ndarray) -> Image.Image:
    """A Pillow image of an RGB (H, W, 3), RGBA (H, W, 4) or greyscale (H, W) uint8 array."""
    if (
        array.dtype != np.uint8
        or array.ndim not in (2, 3)
        or (array.ndim == 3 and array.shape[2] not in (3, 4))
    ):
        raise ValueError(f"expected a uint8 image array, got {array.dtype} {array.shape}")
    # Pillow picks L, RGB or RGBA from the shape of a uint8 array.
    return Image.fromarray(np.ascontiguousarray(array))


def from_pil(image: Image.Image) -> np.ndarray:
    """An RGB uint8 array (H, W, 3) of any Pillow image; alpha is dropped."""
    if image.mode in ("RGB", "RGBA", "RGBX"):
        return np.array(image.convert("RGB") if image.mode != "RGB" else image, dtype=np.uint8)
    if image.mode.startswith(("I", "F")):
        return np.repeat(_grey_array(image)[..., None], 3, axis=2)
    if image.mode == "La":
        image = image.getchannel("L")
    return np.array(image.convert("RGB"), dtype=np.uint8)


def resize(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to `size` (width, height) with Lanczos: RGB/RGBA/greyscale uint8, or float32 (H, W)."""
    width, height = size
    if width <= 0 or height <= 0:
        raise ValueError(f"cannot resize to {width}x{height}")
    if (array.shape[1], array.shape[0]) == (width, height):
        return array.copy()
    if array.dtype == np.float32 and array.ndim == 2:
        source = Image.fromarray(np.ascontiguousarray(array))  # mode F
        return np.array(source.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float32)
    return np.array(to_pil(array).resize((width, height), Image.Resampling.LANCZOS), dtype=np.uint8)


def extend_canvas(
    image: np.ndarray, left: int, top: int, right: int, bottom: int
) -> tuple[np.ndarray, np.ndarray]:
    """Enlarge `image` by the margins for outpainting: the prefilled canvas and its mask.

    The new area continues the picture's edges: each new pixel starts as the nearest edge pixel
    and is then blurred more the farther it lies from the original (blur radius = distance), so
    colours carry on without a seam and turn into soft colour fields far out. The original pixels
    are unchanged; the mask is 255 on the new area and 0 on the original.
    """
    margins = {"left": left, "top": top, "right": right, "bottom": bottom}
    for side, margin in margins.items():
        if isinstance(margin, bool) or not isinstance(margin, int | np.integer):
            raise BadInput(f"The {side} outpaint margin must be a whole number of pixels, not {margin!r}.")
        if margin < 0 or margin % OUTPAINT_STEP:
            raise BadInput(
                f"The {side} outpaint margin is {margin} pixels; margins must be 0 or more and a "
                f"multiple of {OUTPAINT_STEP}."
            )
    if not any(margins.values()):
        raise BadInput("Choose at least one side to outpaint: all four margins are 0.")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 image, got {image.dtype} {image.shape}")
    height, width = image.shape[:2]
    new_width, new_height = width + left + right, height + top + bottom
    if max(new_width, new_height) > MAX_SIDE:
        raise BadInput(
            f"Outpainting would make the image {new_width}x{new_height} pixels, more than the "
            f"{MAX_SIDE} pixels a side Sfumato supports. Use smaller margins."
        )

    stretched = np.pad(image, ((top, bottom), (left, right), (0, 0)), mode="edge")
    distance = _distance_from_rectangle((new_height, new_width), (left, top, left + width, top + height))
    blurred = _progressive_blur(stretched.astype(np.float32), distance)
    canvas = np.clip(np.rint(blurred), 0, 255).astype(np.uint8)
    canvas[top : top + height, left : left + width] = image

    mask = np.full((new_height, new_width), 255, dtype=np.uint8)
    mask[top : top + height, left : left + width] = 0
    return canvas, mask


def _distance_from_rectangle(shape: tuple[int, int], rect: tuple[int, int, int, int]) -> np.ndarray:
    """Euclidean distance of every pixel from the rectangle (x0, y0, x1, y1); 0 inside."""
    x0, y0, x1, y1 = rect
    ys = np.arange(shape[0], dtype=np.float64)
    xs = np.arange(shape[1], dtype=np.float64)
    dy = np.maximum(np.maximum(y0 - ys, ys - (y1 - 1)), 0.0)
    dx = np.maximum(np.maximum(x0 - xs, xs - (x1 - 1)), 0.0)
    return np.hypot(dy[:, None], dx[None, :])


_FINE_RADII = (0, 1, 2, 4)


def _progressive_blur(pixels: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Blur each pixel of float `pixels` with a radius about equal to its `distance`.

    Radii 0, 1, 2 and 4 are blurred at this size; larger ones come from the same work done on a
    half-size copy (recursively), so the total cost stays close to that of one full-size blur.
    Each pixel interpolates between the two radii around its distance.
    """
    farthest = float(distance.max())
    levels, radii = [pixels], [0]
    for radius in _FINE_RADII[1:]:
        if farthest <= radii[-1]:
            break
        levels.append(tent_blur(pixels, radius))
        radii.append(radius)
    if farthest > _FINE_RADII[-1]:
        coarse = _progressive_blur(_halve(pixels), _halve(distance[..., None])[..., 0] / 2)
        levels.append(_double(coarse, pixels.shape[:2]))
        radii.append(2 * _FINE_RADII[-1])
    position = np.interp(distance, radii, np.arange(len(radii), dtype=np.float64))
    result = np.zeros(pixels.shape, dtype=np.float32)
    for index, level in enumerate(levels):
        weight = np.clip(1.0 - np.abs(position - index), 0.0, None).astype(np.float32)
        result += weight[..., None] * level
    return result


def _halve(values: np.ndarray) -> np.ndarray:
    """Average 2 x 2 blocks (an odd last row or column is doubled)."""
    height, width = values.shape[:2]
    padded = np.pad(values, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    total = padded[0::2, 0::2] + padded[1::2, 0::2] + padded[0::2, 1::2] + padded[1::2, 1::2]
    return (total * np.float32(0.25)).astype(np.float32)


def _double(small: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Bilinear upscaling of a `_halve` result back to `shape` (height, width)."""
    enlarged = small
    for axis in (0, 1):
        count = enlarged.shape[axis]
        coords = np.clip((np.arange(shape[axis]) + 0.5) / 2 - 0.5, 0, count - 1)
        lower = np.floor(coords).astype(np.intp)
        upper = np.minimum(lower + 1, count - 1)
        fraction = (coords - lower).astype(np.float32)
        fraction = fraction.reshape((-1, 1, 1) if axis == 0 else (1, -1, 1))
        near = np.take(enlarged, lower, axis=axis)
        far = np.take(enlarged, upper, axis=axis)
        enlarged = near + (far - near) * fraction
    return enlarged


def _open_decoded(path: Path, what: str) -> Image.Image:
    """Open and fully decode `path`, upright; every failure becomes a BadInput naming the file."""
    try:
        exists, is_folder = path.exists(), path.is_dir()
    except OSError as error:  # a name too long, a folder Sfumato may not look into, ...
        raise BadInput(
            f"Could not read the {what} file {quoted(str(path))}: {error.strerror or error}."
        ) from error
    if not exists:
        raise BadInput(f"Cannot find the {what} file {path}. It may have been moved or deleted.")
    if is_folder:
        raise BadInput(f"{path} is a folder; choose the {what} file itself.")
    name = path.name
    try:
        with warnings.catch_warnings():
            # Pillow warns of pictures far above MAX_PIXELS; they are refused below, before decoding.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError as error:
        raise BadInput(_too_large_message(name, what, _claimed_pixels(error))) from error
    except UnidentifiedImageError as error:
        raise BadInput(
            f"{name} is not an image Sfumato can read. Use a PNG, JPEG, WebP, TIFF or BMP file."
        ) from error
    except PermissionError as error:
        raise BadInput(f"Sfumato is not allowed to read {path}. Check the file's permissions.") from error
    except OSError as error:
        raise BadInput(f"Could not read {path}: {error.strerror or error}.") from error

    with image:
        width, height = image.size  # from the file's header: nothing is decoded yet
        if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
            raise BadInput(_too_large_message(name, what, width * height, f"{width}x{height} pixels"))
        try:
            image.load()
        except MemoryError as error:
            raise BadInput(
                f"There is not enough memory to open {name} ({width}x{height} pixels). "
                "Close other programs or scale the picture down."
            ) from error
        except _DECODE_ERRORS as error:
            raise BadInput(
                f"{name} is damaged or incomplete (for example an unfinished download or copy), "
                "so it cannot be opened. Save or download it again."
            ) from error
        try:
            return ImageOps.exif_transpose(image)
        except _DECODE_ERRORS:
            # Broken EXIF data must not make a readable picture unusable; show it as stored.
            return image.copy()


def _claimed_pixels(error: Exception) -> int | None:
    found = re.search(r"\((\d+) pixels\)", str(error))
    return int(found.group(1)) if found else None


def _too_large_message(name: str, what: str, pixels: int | None, dimensions: str = "") -> str:
    megapixels = f"{pixels / 1e6:,.0f} megapixels" if pixels else "too many pixels"
    size = f"{dimensions}, {megapixels}" if dimensions else megapixels
    return (
        f"The {what} {name} is too large to open ({size}). Sfumato opens pictures up to {MAX_SIDE} "
        f"pixels a side and {MAX_PIXELS / 1e6:,.1f} megapixels; scale it down in an image editor first."
    )


def _alpha_if_transparent(image: Image.Image) -> np.ndarray | None:
    """The alpha channel as uint8 when the image has any pixel that is not fully opaque."""
    if not image.has_transparency_data:
        return None
    bands = image.getbands()
    alpha_image = image.getchannel("A") if "A" in bands else image.convert("RGBA").getchannel("A")
    alpha = np.array(alpha_image, dtype=np.uint8)
    return alpha if alpha.min() < 255 else None


def _grey_array(image: Image.Image) -> np.ndarray:
    """Brightness as uint8 (H, W); 16-bit and 32-bit greyscale are scaled, not clipped."""
    mode = image.mode
    if mode.startswith("I;16"):
        return _scale_to_8bit(np.array(image).astype(np.float64), 65535.0)
    if mode == "I":
        values = np.array(image).astype(np.float64)
        peak = values.max(initial=0.0)
        return _scale_to_8bit(values, 255.0 if peak <= 255 else 65535.0 if peak <= 65535 else peak)
    if mode == "F":
        values = np.array(image).astype(np.float64)
        return _scale_to_8bit(values, 1.0 if values.max(initial=0.0) <= 1.0 else 255.0)
    if mode == "La":
        image = image.getchannel("L")
    return np.array(image.convert("L"), dtype=np.uint8)


def _scale_to_8bit(values: np.ndarray, full_scale: float) -> np.ndarray:
    return np.clip(np.rint(values * (255.0 / full_scale)), 0, 255).astype(np.uint8)
