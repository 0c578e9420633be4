"""Outpainting as an artist relies on it: the canvas grows by exactly the margins, the original picture
stays bit-identical away from the seam, the new area is really painted, and the seam is soft."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sfumato.core.api import ErrorKind, Failed, Mode, Outpaint
from sfumato.core.engine import Engine
from tests.core.engine_helpers import run_events, run_to_finish, terminal
from tests.core.image_checks import changed, near, textured_image

RED = (220, 30, 30)


def outpaint_job(model: Path, init: np.ndarray, **overrides: Any) -> Outpaint:
    settings: dict[str, Any] = dict(model=str(model), prompt="a red circle", init=init, steps=3, seed=5)
    settings.update(overrides)
    return Outpaint(**settings)


def strongly_coloured(height: int, width: int, colour: tuple[int, int, int]) -> np.ndarray:
    grain = np.random.default_rng(0).normal(0.0, 6.0, (height, width, 3))
    return np.clip(np.array(colour) + grain, 0, 255).astype(np.uint8)


def new_area(shape: tuple[int, int], height: int, width: int, left: int, top: int) -> np.ndarray:
    mask = np.full(shape, 255, np.uint8)
    mask[top : top + height, left : left + width] = 0
    return mask


@pytest.mark.parametrize(
    "margins",
    [(16, 0, 0, 0), (0, 8, 0, 0), (0, 0, 24, 0), (0, 0, 0, 32), (8, 16, 24, 32)],
    ids=["left", "top", "right", "bottom", "all"],
)
async def test_the_canvas_grows_by_the_margins_and_the_original_stays(
    engine: Engine, tiny_model_dir: Path, margins: tuple[int, int, int, int]
) -> None:
    left, top, right, bottom = margins
    init = textured_image(44, 60)  # not multiples of 8 either
    finished = await run_to_finish(
        engine,
        outpaint_job(tiny_model_dir, init, left=left, top=top, right=right, bottom=bottom, mask_blur=6),
    )
    result = finished.images[0]
    assert result.shape == (44 + top + bottom, 60 + left + right, 3)
    original = result[top : top + 44, left : left + 60]
    extension = new_area(result.shape[:2], 44, 60, left, top)
    away_from_seam = ~near(extension, 6)[top : top + 44, left : left + 60]
    assert away_from_seam.any()
    assert not changed(init, original)[away_from_seam].any(), "original pixels away from the seam changed"
    recipe = finished.recipes[0]
    assert recipe.mode == Mode.OUTPAINT and recipe.mask_blur == 6
    assert (recipe.width, recipe.height) == (result.shape[1], result.shape[0])
    assert recipe.extras["Outpaint"] == f"{left},{top},{right},{bottom}"


async def test_an_inpainting_checkpoint_outpaints_all_sides(
    engine: Engine, tiny_inpaint_model_dir: Path
) -> None:
    init = textured_image(48, 64)
    job = outpaint_job(tiny_inpaint_model_dir, init, left=8, top=16, right=24, bottom=8, mask_blur=4)
    finished = await run_to_finish(engine, job)
    result = finished.images[0]
    assert result.shape == (72, 96, 3)
    extension = new_area(result.shape[:2], 48, 64, 8, 16)
    away_from_seam = ~near(extension, 4)[16:64, 8:72]
    assert not changed(init, result[16:64, 8:72])[away_from_seam].any()
    # An inpainting checkpoint repaints the new area from scratch.
    assert finished.recipes[0].strength == 1.0


@pytest.mark.parametrize(
    ("margins", "words"),
    [((12, 0, 0, 0), "multiple of 8"), ((0, 0, 0, 4), "multiple of 8"), ((0, 0, 0, 0), "at least one side")],
    ids=["left-12", "bottom-4", "none"],
)
async def test_unusable_margins_are_refused(
    engine: Engine, tiny_model_dir: Path, margins: tuple[int, int, int, int], words: str
) -> None:
    left, top, right, bottom = margins
    job = outpaint_job(tiny_model_dir, textured_image(64, 64), left=left, top=top, right=right, bottom=bottom)
    failed = terminal(await run_events(engine, job))
    assert isinstance(failed, Failed)
    assert failed.kind == ErrorKind.BAD_INPUT and words in failed.message


async def test_the_new_area_is_repainted_not_left_as_the_prefill(
    engine: Engine, tiny_model_dir: Path
) -> None:
    """For a red picture the prefill is red all over; what the model paints there is not."""
    init = strongly_coloured(64, 48, RED)
    finished = await run_to_finish(engine, outpaint_job(tiny_model_dir, init, right=32, mask_blur=4))
    result = finished.images[0]
    far_new = result[:, 48 + 4 :].astype(np.float32)
    assert np.abs(far_new - np.array(RED, np.float32)).mean() > 20
    assert far_new.std(axis=(0, 1)).min() > 3, "the new area is a flat fill"


@pytest.mark.parametrize("model", ["tiny_model_dir", "tiny_inpaint_model_dir"])
async def test_the_new_area_continues_the_edge_colour_across_a_soft_seam(
    engine: Engine, model: str, request: pytest.FixtureRequest
) -> None:
    """Colour across the seam of a red picture extended to the right, averaged down each column.

    The tiny test VAE is untrained: its group norms strip a latent's overall level, so it decodes
    every latent to about the same mean colour whatever the picture (a real VAE keeps the colour),
    and the far new area cannot be expected to be red. What the artist sees at the seam can still be
    measured: the colour sets out from the edge colour and moves to the painted one across the blur
    width on both sides of the seam (16 px here), in small steps. A tent ramp over 16 px moves at most
    about 1/8 of the way per column; 0.3 leaves room for the painted texture, while a hard seam
    (blur 0) jumps most of the way in one column.
    """
    model_dir: Path = request.getfixturevalue(model)
    init = strongly_coloured(64, 48, RED)

    async def seam_profile(blur: int) -> tuple[np.ndarray, np.ndarray]:
        job = outpaint_job(model_dir, init, right=48, mask_blur=blur)
        columns = (await run_to_finish(engine, job)).images[0].astype(np.float32).mean(axis=0)
        start, end = columns[48 - 16], columns[48 + 16]
        total = float(np.linalg.norm(end - start))
        steps = np.linalg.norm(np.diff(columns[48 - 16 : 48 + 17], axis=0), axis=1) / total
        return columns, steps

    columns, soft_steps = await seam_profile(8)
    assert np.allclose(columns[48 - 9], RED, atol=4), "the picture's own edge colour changed"
    away_from_red = np.linalg.norm(columns - np.array(RED, np.float32), axis=1)
    # The transition sets out from the edge colour and leaves it steadily, column by column.
    assert away_from_red[48 - 4] < 0.25 * away_from_red[48 + 16]
    samples = away_from_red[48 - 8 : 48 + 9 : 4]
    assert np.all(np.diff(samples) > 0), samples
    assert soft_steps.max() < 0.3

    _columns, hard_steps = await seam_profile(0)
    assert hard_steps.max() > 0.5
