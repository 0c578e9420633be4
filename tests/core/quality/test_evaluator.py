"""The evaluator reads drawn scenes as a person would, and names exactly what is wrong."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bench.demo_model.addons import ALL_SHAPES
from bench.demo_model.evaluate import (
    changed_fraction,
    judge,
    muddy_fraction,
    read_image,
    seam_contrast,
)
from bench.demo_model.scenes import (
    COLOURS,
    POSITIONS,
    SHAPES,
    SIZES,
    Scene,
    all_scenes,
    caption,
    read_prompt,
    render,
)

SAMPLE = all_scenes()[::7]


def test_every_wording_of_a_caption_reads_back_as_its_scene() -> None:
    for scene in SAMPLE:
        for variant in range(15):
            assert read_prompt(caption(scene, variant)) == scene
    assert read_prompt("a plain green background") == Scene("green")


def test_drawn_scenes_are_read_right_at_any_jitter_the_training_uses() -> None:
    rng = np.random.default_rng(3)
    for index, scene in enumerate(SAMPLE):
        jitter = (*rng.uniform(-0.03, 0.03, 2), rng.uniform(-0.06, 0.06))
        image = render(scene, jitter=tuple(jitter))
        verdict = judge(image, caption(scene, index))
        assert verdict.correct, (scene, verdict.wrong())


def test_with_the_new_shapes_known_every_shape_is_told_apart_from_the_others() -> None:
    rng = np.random.default_rng(4)
    for index, scene in enumerate(all_scenes(ALL_SHAPES)[::37]):
        jitter = (*rng.uniform(-0.03, 0.03, 2), rng.uniform(-0.06, 0.06))
        image = render(scene, jitter=tuple(jitter))
        assert judge(image, caption(scene, index), ALL_SHAPES).correct, scene
        if scene.shape == "diamond":
            assert judge(image, replace(scene, shape="square"), ALL_SHAPES).wrong() == ["shape"]


@pytest.mark.parametrize("size", SIZES)
def test_a_drawn_bar_reads_as_a_bar_and_no_other_shape_does(size: str) -> None:
    rng = np.random.default_rng(5)
    for index, position in enumerate(POSITIONS):
        jitter = (*rng.uniform(-0.03, 0.03, 2), rng.uniform(-0.06, 0.06))
        for shape in ALL_SHAPES:
            scene = Scene(("blue", "black", "white")[index % 3], "yellow", shape, size, position)
            image = render(scene, jitter=tuple(jitter))
            assert read_image(image, ALL_SHAPES).shape == shape, scene
            if shape == "bar":
                assert judge(image, replace(scene, shape="square"), ALL_SHAPES).wrong() == ["shape"]
            else:
                assert judge(image, replace(scene, shape="bar"), ALL_SHAPES).wrong() == ["shape"]


def _other(options: tuple[str, ...], current: str | None, avoid: str | None, index: int) -> str:
    choices = [option for option in options if option not in (current, avoid)]
    return choices[index % len(choices)]


@pytest.mark.parametrize("attribute", ["background", "colour", "shape", "size", "position"])
def test_a_scene_differing_in_one_attribute_is_wrong_in_exactly_that_one(attribute: str) -> None:
    for index, scene in enumerate(SAMPLE[::5]):
        options: dict[str, tuple[str, ...]] = {
            "background": tuple(COLOURS),
            "colour": tuple(COLOURS),
            "shape": SHAPES,
            "size": SIZES,
            "position": POSITIONS,
        }
        avoid = {"background": scene.colour, "colour": scene.background}.get(attribute)
        value = _other(options[attribute], getattr(scene, attribute), avoid, index)
        changed = replace(scene, **{attribute: value})
        verdict = judge(render(changed), scene)
        assert verdict.wrong() == [attribute], (scene, changed, verdict.wrong())


def test_two_shapes_no_shape_and_noise_are_not_the_scene() -> None:
    scene = Scene("blue", "red", "circle", "small", "top left")
    both = render(scene)
    second = render(replace(scene, position="bottom right"))
    both[32:, 32:] = second[32:, 32:]
    assert judge(both, scene).wrong() == ["single_shape"]
    assert not judge(render(Scene("blue")), scene).correct
    assert judge(render(Scene("blue")), "a plain blue background").correct
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert not judge(noise, scene).correct
    assert muddy_fraction(noise) > 0.3 and muddy_fraction(render(scene)) < 0.01


def test_a_smeared_shape_is_not_recognised() -> None:
    scene = Scene("white", "black", "square", "large", "centre")
    image = render(scene)
    image[20:44, 8:56] = image[20:44, 8:56].mean(axis=(0, 1)).astype(np.uint8)  # a grey bar across
    assert not judge(image, scene).correct


def test_reading_finds_the_background_of_a_wider_canvas() -> None:
    wide = render(Scene("purple", "yellow", "triangle", "large", "left"), width=96, height=64)
    reading = read_image(wide)
    assert (reading.background, reading.colour, reading.shape) == ("purple", "yellow", "triangle")


def test_changes_are_counted_only_where_asked() -> None:
    before = render(Scene("green"))
    after = before.copy()
    after[:8, :8] = 0
    inside = np.zeros((64, 64), bool)
    inside[:16, :16] = True
    assert changed_fraction(before, after, ~inside) == 0.0
    assert changed_fraction(before, after, inside) == pytest.approx(0.25)
    after[40, 40] += 1
    assert changed_fraction(before, after, ~inside) > 0
    assert changed_fraction(before, after, ~inside, tolerance=1) == 0.0


def test_a_seam_is_measured_in_colour_levels_and_a_shape_across_it_does_not_count() -> None:
    background = np.array(COLOURS["blue"], np.float32)
    image = np.broadcast_to(background.astype(np.uint8), (64, 96, 3)).copy()
    assert seam_contrast(image, 64, 1, background) == 0.0
    shifted = image.copy()
    shifted[:, 64:] = np.clip(shifted[:, 64:].astype(int) + 20, 0, 255)
    assert seam_contrast(shifted, 64, 1, background) > 20
    ramp = image.astype(np.float32)
    ramp[:, 52:76] += np.linspace(0, 20, 24)[None, :, None]  # a soft 20-level drift is still seen
    assert seam_contrast(ramp.astype(np.uint8), 64, 1, background) > 10
    crossing = image.copy()
    crossing[20:40, 50:80] = COLOURS["red"]
    assert seam_contrast(crossing, 64, 1, background) == 0.0
    assert seam_contrast(np.swapaxes(shifted, 0, 1), 64, 0, background) > 20
