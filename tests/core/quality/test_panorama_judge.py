"""The panorama check reads a wide frame as a person would: one background across the whole width and
one shape, however much of a quarter a large shape covers, while a change of background or a
repeated subject still fails; and through the engine, the default path passes it where one pass at
the panorama's size repeats the subject."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image, ImageDraw

from bench.demo_model.evaluate import read_image
from bench.demo_model.harness import PANORAMA, Settings, evaluation_scenes, judge_panorama, panorama_score
from bench.demo_model.scenes import COLOURS, Scene, draw_shape
from sfumato.core.api import Job
from sfumato.core.demo import DEMO_MODEL_ID
from sfumato.core.engine import Engine

SCENE = Scene("blue", "green", "square", "large", "right")


def panorama(*drawn: tuple[str, tuple[int, int, int, int], str], background: str = "blue") -> np.ndarray:
    """A 256×64 frame of `background` with each (shape, box, colour) drawn on it."""
    image = Image.new("RGB", PANORAMA, COLOURS[background])
    for shape, box, colour in drawn:
        draw_shape(ImageDraw.Draw(image), shape, box, COLOURS[colour])
    return np.asarray(image)


def test_a_large_shape_filling_the_last_quarter_is_no_change_of_background() -> None:
    for shape in ("square", "circle"):
        image = panorama((shape, (188, 0, 254, 64), "green"))

        assert read_image(image[:, 192:]).background == "green"  # the quarter alone reads as green
        assert judge_panorama(image, SCENE) == []


def test_a_background_that_changes_along_the_width_is_caught() -> None:
    halves = panorama(("square", (120, 0, 256, 64), "red"), ("square", (20, 10, 54, 44), "green"))
    lower_band = panorama(("square", (0, 40, 256, 64), "red"), ("square", (200, 4, 234, 38), "green"))

    assert "background" in judge_panorama(halves, SCENE)
    assert "background" in judge_panorama(lower_band, SCENE)


def test_a_repeated_subject_or_a_strip_of_another_colour_is_caught() -> None:
    repeated = panorama(("square", (30, 15, 64, 49), "green"), ("square", (200, 15, 234, 49), "green"))
    strip = panorama(("square", (192, 0, 256, 64), "red"), ("square", (20, 15, 54, 49), "green"))

    assert judge_panorama(repeated, SCENE) == ["single_shape"]
    assert "single_shape" in judge_panorama(strip, SCENE)


def test_the_wrong_background_everywhere_is_caught() -> None:
    image = panorama(("circle", (190, 10, 234, 54), "green"), background="white")

    assert judge_panorama(image, SCENE) == ["background"]


async def test_the_hires_path_draws_one_panorama_where_one_pass_repeats_the_shape(engine: Engine) -> None:
    settings = Settings(model=DEMO_MODEL_ID, steps=20, cfg=2, seed=1000)  # as the README's score
    scenes = evaluation_scenes(50, seed=1000)[:6]

    def one_pass(job: Job) -> Job:
        return replace(job, hires="off")

    default = await panorama_score(engine, settings, scenes)
    skipped = await panorama_score(engine, settings, scenes, tamper=one_pass)

    assert default.rate >= 5 / 6, [(case.prompt, case.problems) for case in default.failures()]
    assert skipped.rate_without("single_shape") <= 2 / 6
