"""The demo model's world: one plain shape on a plain background, drawn and described in English.

Everything here is deterministic (numpy and Pillow only), so the training script, the evaluator and
the tests all agree on what "a small red circle in the top left on a blue background" looks like.
Geometry is given as fractions of the canvas, so a scene can be drawn at any size.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "green": (40, 170, 60),
    "blue": (35, 70, 215),
    "yellow": (240, 215, 40),
    "orange": (245, 135, 25),
    "purple": (140, 50, 175),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
}
SHAPES = ("circle", "square", "triangle")
# Shapes the base model never saw: the demo LoRA teaches the first (`bench/demo_model/addons.py`).
# A bar is as wide as a square of its size and half as tall.
NEW_SHAPES = ("bar", "diamond")
SIZES = ("small", "medium", "large")
POSITIONS = (
    "top left",
    "top",
    "top right",
    "left",
    "centre",
    "right",
    "bottom left",
    "bottom",
    "bottom right",
)

# The side of a shape's bounding box, as a fraction of the canvas's shorter side.
SIZE_FRACTION = {"small": 0.25, "medium": 0.375, "large": 0.53}
# Where each position puts the shape's centre, as fractions of (width, height).
POSITION_CENTRE = {
    name: ((0.25, 0.5, 0.75)[index % 3], (0.25, 0.5, 0.75)[index // 3])
    for index, name in enumerate(POSITIONS)
}


@dataclass(frozen=True)
class Scene:
    """What a caption says: `colour` is None for an empty background (then shape, size and position
    are None too)."""

    background: str
    colour: str | None = None
    shape: str | None = None
    size: str | None = None
    position: str | None = None

    @property
    def empty(self) -> bool:
        return self.colour is None


def all_scenes(shapes: tuple[str, ...] = SHAPES) -> list[Scene]:
    """Every scene with a shape: 8 backgrounds × 7 other colours × 3 shapes × 3 sizes × 9 positions."""
    return [
        Scene(background, colour, shape, size, position)
        for background, colour, shape, size, position in itertools.product(
            COLOURS, COLOURS, shapes, SIZES, POSITIONS
        )
        if background != colour
    ]


def is_held_out(scene: Scene) -> bool:
    """Colour × shape × position combinations that never appear in training captions, one in nine:
    the evaluation draws its prompts from these, so it measures composition, not memory."""
    if scene.empty:
        return False
    assert scene.colour and scene.shape and scene.position
    index = (
        list(COLOURS).index(scene.colour) * 5
        + (*SHAPES, *NEW_SHAPES).index(scene.shape) * 3
        + POSITIONS.index(scene.position) * 7
    )
    return index % 9 == 4


# ---- drawing ------------------------------------------------------------------------------------


def shape_box(scene: Scene, width: int, height: int, jitter: tuple[float, float, float] = (0, 0, 0)) -> tuple:
    """(x0, y0, x1, y1) in pixels of the shape's bounding box; `jitter` shifts the centre (dx, dy as
    fractions of the canvas) and scales the side (a relative change)."""
    assert scene.size and scene.position
    side = SIZE_FRACTION[scene.size] * min(width, height) * (1 + jitter[2])
    cx_fraction, cy_fraction = POSITION_CENTRE[scene.position]
    cx = (cx_fraction + jitter[0]) * width
    cy = (cy_fraction + jitter[1]) * height
    return (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def draw_shape(draw: ImageDraw.ImageDraw, shape: str, box: tuple, fill: int | tuple[int, int, int]) -> None:
    x0, y0, x1, y1 = box
    # Pillow's boxes include their last pixel; shrink by one so a 16 px box covers 16 px.
    x1, y1 = x1 - 1, y1 - 1
    if shape == "circle":
        draw.ellipse((x0, y0, x1, y1), fill=fill)
    elif shape == "square":
        draw.rectangle((x0, y0, x1, y1), fill=fill)
    elif shape == "triangle":
        draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=fill)
    elif shape == "bar":
        quarter = (y1 - y0) / 4
        draw.rectangle((x0, y0 + quarter, x1, y1 - quarter), fill=fill)
    elif shape == "diamond":
        draw.polygon(
            [((x0 + x1) / 2, y0), (x1, (y0 + y1) / 2), ((x0 + x1) / 2, y1), (x0, (y0 + y1) / 2)], fill=fill
        )
    else:
        raise ValueError(f"unknown shape {shape!r}")


def render(
    scene: Scene, width: int = 64, height: int = 64, jitter: tuple[float, float, float] = (0, 0, 0)
) -> np.ndarray:
    """The scene as an RGB uint8 array (height, width, 3). Edges are antialiased by drawing at 4×."""
    scale = 4
    image = Image.new("RGB", (width * scale, height * scale), COLOURS[scene.background])
    if not scene.empty:
        assert scene.colour and scene.shape
        box = tuple(v * scale for v in shape_box(scene, width, height, jitter))
        draw_shape(ImageDraw.Draw(image), scene.shape, box, COLOURS[scene.colour])
    return np.array(image.resize((width, height), Image.Resampling.BOX))


def shape_mask(scene: Scene, width: int = 64, height: int = 64) -> np.ndarray:
    """uint8 (height, width), 255 where the scene's shape is."""
    mask = Image.new("L", (width, height), 0)
    if not scene.empty:
        assert scene.shape
        draw_shape(ImageDraw.Draw(mask), scene.shape, shape_box(scene, width, height), 255)
    return np.array(mask)


# ---- captions -----------------------------------------------------------------------------------

_POSITION_PHRASES = {
    "top left": ("in the top left", "in the top left corner", "at the top left", "top left"),
    "top right": ("in the top right", "in the top right corner", "at the top right", "top right"),
    "bottom left": ("in the bottom left", "in the bottom left corner", "at the bottom left", "bottom left"),
    "bottom right": (
        "in the bottom right",
        "in the bottom right corner",
        "at the bottom right",
        "bottom right",
    ),
    "top": ("at the top", "at the top", "in the top middle", "top"),
    "bottom": ("at the bottom", "at the bottom", "in the bottom middle", "bottom"),
    "left": ("on the left", "at the left", "on the left side", "left"),
    "right": ("on the right", "at the right", "on the right side", "right"),
    "centre": ("in the centre", "in the center", "in the middle", "centre"),
}


def caption(scene: Scene, variant: int = 0) -> str:
    """An English caption; `variant` picks the wording (any integer; 0 is the canonical one)."""
    background = scene.background
    if scene.empty:
        return (
            f"a plain {background} background",
            f"an empty {background} background",
            f"{background} background",
        )[variant % 3]
    assert scene.shape and scene.position and scene.size
    size = "" if scene.size == "medium" else f"{scene.size} "
    thing = f"{size}{scene.colour} {scene.shape}"
    article = "an" if thing[0] in "aeiou" else "a"
    phrases = _POSITION_PHRASES[scene.position]
    where = phrases[(variant // 5) % 3]
    templates = (
        f"{article} {thing} {where} on a {background} background",
        f"{article} {thing} {where}, {background} background",
        f"{article} {background} background with {article} {thing} {where}",
        f"{where}, {article} {thing} on {background}",
        f"{thing} {phrases[3]} on a {background} background",
    )
    return templates[variant % len(templates)]


def random_caption(scene: Scene, rng: random.Random) -> str:
    return caption(scene, rng.randrange(15))


_WORD = re.compile(r"[a-z]+")


def read_prompt(prompt: str) -> Scene:
    """The scene a caption describes (the inverse of `caption` for any of its wordings).

    The colour named right before "background" (or after "on") is the background; the other is the
    shape's. Raises ValueError for a prompt that does not describe a scene.
    """
    words = _WORD.findall(prompt.lower().replace("center", "centre").replace("middle", "centre"))
    colours = [(i, w) for i, w in enumerate(words) if w in COLOURS]
    shapes = [w for w in words if w in SHAPES or w in NEW_SHAPES]
    if not colours:
        raise ValueError(f"no colour in {prompt!r}")
    background_index = next(
        (
            i
            for i, w in colours
            if (i + 1 < len(words) and words[i + 1] == "background") or (i > 0 and words[i - 1] == "on")
        ),
        None,
    )
    if background_index is None:
        raise ValueError(f"no background colour in {prompt!r}")
    background = words[background_index]
    if not shapes:
        return Scene(background)
    others = [w for i, w in colours if i != background_index]
    if len(others) != 1 or len(shapes) != 1:
        raise ValueError(f"not exactly one coloured shape in {prompt!r}")
    size = "small" if "small" in words else "large" if "large" in words else "medium"
    vertical = "top" if "top" in words else "bottom" if "bottom" in words else ""
    horizontal = "left" if "left" in words else "right" if "right" in words else ""
    position = f"{vertical} {horizontal}".strip() or "centre"
    return Scene(background, others[0], shapes[0], size, position)
