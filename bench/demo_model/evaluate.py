"""Reading a demo-model image the way a person checks it: which background, which shape, what colour,
where, how big; and, for edits, what changed where it should not have.

Colours are matched to the scene palette, the shape is the largest blob that differs from the
background, its kind is the template (circle, square, triangle drawn in the blob's bounding box)
that overlaps it best (a filled box twice as wide as tall is a bar), and position and size come
from that bounding box.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from bench.demo_model.scenes import COLOURS, POSITIONS, SHAPES, SIZE_FRACTION, Scene, draw_shape, read_prompt

_PALETTE = np.array(list(COLOURS.values()), dtype=np.float32)
_NAMES = list(COLOURS)

# Half the distance between the two closest palette colours (yellow and orange): a pixel farther
# than this from the background colour belongs to something else.
DIFFERENT_FROM_BACKGROUND = 40.0
# A pixel this far from every palette colour and every mix of two is muddy.
BLEND_TOLERANCE = 30.0
# Blobs smaller than this fraction of the image are specks, not shapes.
MIN_SHAPE_FRACTION = 0.003
# A blob that overlaps no template at least this well is not a recognisable shape.
MIN_TEMPLATE_IOU = 0.6
# A blob wider than this many times the frame's height is a band of another colour, not a shape.
WIDEST_SHAPE = 1.5
# A filled box at least this many times as wide as tall is a bar (2:1), not a square (1:1).
BAR_ASPECT = 1.5
# A part of a frame showing less of its area than this beside the shape shows no background to read.
MIN_VISIBLE_BACKGROUND = 0.1


@dataclass(frozen=True)
class Reading:
    """What is in an image. Shape fields are None when no shape was found."""

    background: str
    background_rgb: tuple[float, float, float]
    background_fraction: float
    shapes: int
    colour: str | None = None
    shape: str | None = None
    size: str | None = None
    position: str | None = None
    template_iou: float = 0.0


@dataclass(frozen=True)
class Verdict:
    background: bool
    colour: bool
    shape: bool
    size: bool
    position: bool
    single_shape: bool

    @property
    def correct(self) -> bool:
        return all(getattr(self, f.name) for f in fields(self))

    def wrong(self) -> list[str]:
        return [f.name for f in fields(self) if not getattr(self, f.name)]


def _distances(pixels: np.ndarray) -> np.ndarray:
    """Distance of each pixel (..., 3) to each palette colour (..., len(palette))."""
    diff = pixels[..., None, :].astype(np.float32) - _PALETTE
    distances: np.ndarray = np.sqrt((diff**2).sum(axis=-1))
    return distances


def nearest_colour(rgb: np.ndarray) -> str:
    return _NAMES[int(np.argmin(_distances(np.asarray(rgb, np.float32))))]


def background_of(image: np.ndarray) -> tuple[str, np.ndarray]:
    """The palette colour most pixels are closest to, and the median of those pixels."""
    labels = np.argmin(_distances(image), axis=-1)
    counts = np.bincount(labels.ravel(), minlength=len(_NAMES))
    winner = int(np.argmax(counts))
    return _NAMES[winner], np.median(image[labels == winner], axis=0)


def _template(shape: str, box: tuple[int, int, int, int], size: tuple[int, int]) -> np.ndarray:
    """The shape drawn to fill `box`, the blob's bounding box (a bar fills it as a square does)."""
    mask = Image.new("L", size, 0)
    draw_shape(ImageDraw.Draw(mask), "square" if shape == "bar" else shape, box, 255)
    return np.asarray(mask) > 127


def _ruled_out(shape: str, box: tuple[int, int, int, int], shapes: tuple[str, ...]) -> bool:
    """Where bars are among the shapes, the box's proportions tell a bar from a square."""
    if "bar" not in shapes or shape not in ("bar", "square"):
        return False
    x0, y0, x1, y1 = box
    return (x1 - x0 >= BAR_ASPECT * (y1 - y0)) != (shape == "bar")


def _classify_shape(blob: np.ndarray, shapes: tuple[str, ...]) -> tuple[str, float]:
    rows = np.flatnonzero(blob.any(axis=1))
    cols = np.flatnonzero(blob.any(axis=0))
    box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    size = (blob.shape[1], blob.shape[0])
    scores = []
    for shape in shapes:
        if _ruled_out(shape, box, shapes):
            scores.append(0.0)
            continue
        template = _template(shape, box, size)
        union = np.logical_or(template, blob).sum()
        scores.append(float(np.logical_and(template, blob).sum() / union) if union else 0.0)
    best = int(np.argmax(scores))
    return shapes[best], scores[best]


def _position(centre_x: float, centre_y: float) -> str:
    column = min(2, int(centre_x * 3))
    row = min(2, int(centre_y * 3))
    return POSITIONS[row * 3 + column]


def _size(side_fraction: float) -> str:
    return min(SIZE_FRACTION, key=lambda name: abs(SIZE_FRACTION[name] - side_fraction))


def read_image(image: np.ndarray, shapes: tuple[str, ...] = SHAPES) -> Reading:
    """Read an RGB uint8 image (H, W, 3) of any size; the shape is told apart among `shapes`."""
    height, width = image.shape[:2]
    background, background_rgb = background_of(image)
    foreground, labels, areas, blobs = _blobs(image, background_rgb)
    reading = Reading(
        background=background,
        background_rgb=tuple(float(v) for v in background_rgb),  # type: ignore[arg-type]
        background_fraction=float(1.0 - foreground.mean()),
        shapes=len(blobs),
    )
    if not blobs:
        return reading
    largest = max(blobs, key=lambda label: areas[label - 1])
    blob = labels == largest
    interior = ndimage.binary_erosion(blob, iterations=1)
    core = interior if interior.sum() >= 4 else blob
    colour = nearest_colour(np.median(image[core], axis=0))
    shape, iou = _classify_shape(blob, shapes)
    rows = np.flatnonzero(blob.any(axis=1))
    cols = np.flatnonzero(blob.any(axis=0))
    centre_x = (cols[0] + cols[-1] + 1) / 2 / width
    centre_y = (rows[0] + rows[-1] + 1) / 2 / height
    side = max(cols[-1] + 1 - cols[0], rows[-1] + 1 - rows[0]) / min(width, height)
    return Reading(
        background=reading.background,
        background_rgb=reading.background_rgb,
        background_fraction=reading.background_fraction,
        shapes=reading.shapes,
        colour=colour,
        shape=shape if iou >= MIN_TEMPLATE_IOU else None,
        size=_size(side),
        position=_position(centre_x, centre_y),
        template_iou=iou,
    )


def _blobs(
    image: np.ndarray, background_rgb: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Where the image differs from its background, those regions labelled, their areas, and the
    labels of those large enough to be shapes."""
    height, width = image.shape[:2]
    differs = np.sqrt(((image.astype(np.float32) - background_rgb) ** 2).sum(axis=-1))
    foreground = differs > DIFFERENT_FROM_BACKGROUND
    labels, count = ndimage.label(foreground)
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    blobs = [index + 1 for index, area in enumerate(areas) if area >= MIN_SHAPE_FRACTION * height * width]
    return foreground, labels, areas, blobs


def backgrounds_across(image: np.ndarray, parts: int) -> list[str | None]:
    """The background colour of each of `parts` equal parts of the width, read around the picture's
    largest shape (None for a part the shape fills): a large shape in a wide frame can cover most of
    a part as tall as the frame, and is no change of background. A blob wider than `WIDEST_SHAPE` ×
    the height is no shape but a band, and is read as background."""
    height = image.shape[0]
    _, labels, areas, blobs = _blobs(image, background_of(image)[1])
    around = np.ones(labels.shape, bool)
    if blobs:
        blob = labels == max(blobs, key=lambda label: areas[label - 1])
        columns = np.flatnonzero(blob.any(axis=0))
        if columns[-1] + 1 - columns[0] <= WIDEST_SHAPE * height:
            around = ~ndimage.binary_dilation(blob, iterations=2)  # its blended outline too
    found: list[str | None] = []
    split = zip(np.array_split(image, parts, axis=1), np.array_split(around, parts, axis=1), strict=True)
    for part, visible in split:
        shown = part[visible]
        enough = shown.shape[0] >= MIN_VISIBLE_BACKGROUND * visible.size
        found.append(background_of(shown[None])[0] if enough else None)
    return found


def judge(image: np.ndarray, expected: Scene | str, shapes: tuple[str, ...] = SHAPES) -> Verdict:
    """Does the image show the scene (or the scene its caption describes)? Its shape is told apart
    among `shapes`."""
    scene = read_prompt(expected) if isinstance(expected, str) else expected
    seen = read_image(image, shapes)
    if scene.empty:
        return Verdict(
            background=seen.background == scene.background,
            colour=True,
            shape=True,
            size=True,
            position=True,
            single_shape=seen.shapes == 0,
        )
    return Verdict(
        background=seen.background == scene.background,
        colour=seen.colour == scene.colour,
        shape=seen.shape == scene.shape,
        size=seen.size == scene.size,
        position=seen.position == scene.position,
        single_shape=seen.shapes == 1,
    )


# ---- edits --------------------------------------------------------------------------------------


def changed_fraction(before: np.ndarray, after: np.ndarray, where: np.ndarray, tolerance: int = 0) -> float:
    """The fraction of pixels selected by the boolean `where` that differ by more than `tolerance`."""
    if not where.any():
        return 0.0
    difference = np.abs(before.astype(np.int16) - after.astype(np.int16)).max(axis=-1)
    return float((difference[where] > tolerance).mean())


def background_fraction(region: np.ndarray, background_rgb: np.ndarray | tuple[float, ...]) -> float:
    """The fraction of a region's pixels that are the background colour."""
    distance = np.sqrt(((region.astype(np.float32) - np.asarray(background_rgb)) ** 2).sum(axis=-1))
    return float((distance <= DIFFERENT_FROM_BACKGROUND).mean())


def _blend_distances(pixels: np.ndarray) -> np.ndarray:
    """Distance of each pixel (N, 3) to the nearest mix of two palette colours (a soft edge's colours)."""
    starts, ends = np.triu_indices(len(_PALETTE), k=1)
    a, b = _PALETTE[starts], _PALETTE[ends]  # (pairs, 3)
    direction = b - a
    offset = pixels[:, None, :] - a  # (N, pairs, 3)
    t = np.clip((offset * direction).sum(-1) / (direction**2).sum(-1), 0.0, 1.0)
    nearest = a + t[..., None] * direction
    distances: np.ndarray = np.sqrt(((pixels[:, None, :] - nearest) ** 2).sum(-1)).min(axis=-1)
    return distances


def muddy_fraction(image: np.ndarray) -> float:
    """The fraction of pixels that are neither a palette colour nor a blend of two (as soft edges are):
    noise, smears, colours from nowhere."""
    pixels = image.reshape(-1, 3).astype(np.float32)
    return float((_blend_distances(pixels) > BLEND_TOLERANCE).mean())


def seam_contrast(
    image: np.ndarray,
    offset: int,
    axis: int,
    background_rgb: np.ndarray | tuple[float, ...],
    span: tuple[int, int] | None = None,
    reach: int = 12,
) -> float:
    """How visible a straight seam is, in RGB levels (a person notices about 10 on flat colour).

    The seam lies between pixel `offset - 1` and `offset` along `axis` (1: between two columns, 0:
    between two rows). Only the lines across it that stay background-coloured for `reach` pixels on
    both sides count, so a shape crossing the seam is not mistaken for one; `span` (start, end) limits
    the seam's extent along its length. The result is the larger
    of the sharpest step between neighbouring lines and the colour shift from one side to the other.
    """
    pixels = np.moveaxis(image.astype(np.float32), axis, 0)
    if span is not None:
        pixels = pixels[:, span[0] : span[1]]
    low, high = max(0, offset - reach), min(pixels.shape[0], offset + reach)
    band = pixels[low:high]
    distance = np.sqrt(((band - np.asarray(background_rgb, np.float32)) ** 2).sum(axis=-1))
    clean = (distance <= DIFFERENT_FROM_BACKGROUND).all(axis=0)
    if clean.sum() < 4:
        return 0.0
    colours = band[:, clean].mean(axis=1)
    steps = float(np.sqrt((np.diff(colours, axis=0) ** 2).sum(axis=-1)).max())
    before, after = colours[: offset - low].mean(axis=0), colours[offset - low :].mean(axis=0)
    shift = float(np.sqrt(((before - after) ** 2).sum()))
    return max(steps, shift)
